// SPDX-License-Identifier: GPL-3.0-or-later
// Which backup a run makes, from the requested level and what the folder already holds. Pure.
import { checkpointName } from "../format/names.ts";
import type { Level, RequestedLevel } from "../protocol/levels.ts";

export type { Level, RequestedLevel };

export class BackupRefusedError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "BackupRefusedError";
    }
}

/** What the target folder holds, as far as choosing a level goes. */
export interface FolderState {
    /** `<vm>.cpt`: the chain's checkpoint names, oldest first. */
    checkpoints: string[];
    /** Any finished `*.data` file is there. */
    hasData: boolean;
    /** Names of `*.partial` files a failed run of another tool left. */
    partials: string[];
}

export interface LevelPlan {
    level: Level;
    /** Checkpoint named in the stream's meta (and created, when `createCheckpoint`). */
    checkpointName: string;
    /** Checkpoint the changes are counted from ("" for full/copy). */
    parentCheckpoint: string;
    createCheckpoint: boolean;
    /** Names this run's files: checkpoint name, "copy", or unix seconds for a diff. */
    ident: string;
    notes: string[];
}

export function planLevel(requested: RequestedLevel, folder: FolderState, opts: { online: boolean; now: Date }): LevelPlan {
    const notes: string[] = [];
    let level: Level = requested === "auto" ? (folder.hasData ? "inc" : "full") : requested;
    if (requested === "auto")
        notes.push(`auto: ${level} backup`);
    if (level === "full" && !opts.online) {
        notes.push("the VM is not running: a full backup needs a running VM, making a copy backup instead");
        level = "copy";
    }
    if (level === "full" || level === "copy") {
        if (folder.hasData)
            throw new BackupRefusedError("the target folder already holds a backup: a full or copy backup needs an empty folder");
        return level === "full"
            ? { level, checkpointName: checkpointName(0), parentCheckpoint: "", createCheckpoint: true, ident: checkpointName(0), notes }
            : { level, checkpointName: checkpointName(0), parentCheckpoint: "", createCheckpoint: false, ident: "copy", notes };
    }
    if (folder.checkpoints.length === 0)
        throw new BackupRefusedError(`an ${level} backup needs a full backup in the target folder first`);
    if (folder.partials.length > 0)
        throw new BackupRefusedError(`the target folder holds unfinished files of a failed backup (${folder.partials.join(", ")}): start a new chain with a full backup`);
    folder.checkpoints.forEach((name, i) => {
        if (name !== checkpointName(i))
            throw new BackupRefusedError(`the checkpoint list names ${JSON.stringify(name)} at position ${i}: expected ${checkpointName(i)}`);
    });
    const parent = folder.checkpoints[folder.checkpoints.length - 1];
    const next = checkpointName(folder.checkpoints.length);
    const unixSeconds = String(Math.floor(opts.now.getTime() / 1000));
    if (level === "inc" && !opts.online) {
        // Offline, the last checkpoint's bitmap keeps counting and no new checkpoint can be made:
        // the changes since it are exactly a differential, saved under its own name (never over an inc).
        notes.push("the VM is not running: saving the changes since the last checkpoint as a differential backup");
        level = "diff";
    }
    if (level === "inc")
        return { level, checkpointName: next, parentCheckpoint: parent, createCheckpoint: true, ident: next, notes };
    return { level, checkpointName: next, parentCheckpoint: parent, createCheckpoint: false, ident: unixSeconds, notes };
}

/**
 * The chain's last bitmap cannot be trusted (lost or inconsistent): a new full backup goes into the same
 * folder and continues the checkpoint numbering, so every earlier restore point stays restorable and
 * later incrementals build on the new full.
 */
export function planFallbackFull(folder: FolderState, reason: string): LevelPlan {
    const next = checkpointName(folder.checkpoints.length);
    return {
        level: "full",
        checkpointName: next,
        parentCheckpoint: "",
        createCheckpoint: true,
        ident: next,
        notes: [`${reason}: making a full backup instead (checkpoint ${next}), the chain goes on from it`],
    };
}
