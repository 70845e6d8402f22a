// SPDX-License-Identifier: GPL-3.0-or-later
// The writing phases of a restore run. Everything is written under a partial name first (boot files, each
// disk's image, the domain config) and named together at the end (publishOutputs); each pushes its undo,
// so a failure anywhere removes all of it, also what was already named. A process that must exit at once
// (a second Ctrl-C) removes the partials synchronously (UndoStack.undoNow).
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { qemuUsers } from "../fs/trusted-folder.ts";
import type { UndoStack } from "../run/undo-stack.ts";
import { adjustDomainConfig } from "./domain-config.ts";
import type { RestoreOutputs } from "./outputs.ts";
import type { RestorePlan } from "./plan.ts";
import { restoreRawImage } from "./raw-image.ts";
import { restoreDisk, type DiskProgress, type DiskResult, type RestoreTuning } from "./restore-disk.ts";
import { StagedFile } from "./staged-file.ts";

/** A disk's image, written, and whether it has its final name yet. */
export interface WrittenDisk {
    disk: DiskResult;
    published: boolean;
}

/** Boot files first: small, and a target that cannot be written stops the run before the disks. */
export async function stageBootFiles(plan: RestorePlan, outputs: RestoreOutputs, undo: UndoStack, signal: AbortSignal | undefined): Promise<StagedFile[]> {
    const staged: StagedFile[] = [];
    for (const step of outputs.bootCopies) {
        signal?.throwIfAborted();
        // Folders made for a boot file at its configured place are libvirt's kind: QEMU must reach them.
        staged.push(stage(undo, await StagedFile.stage(step.target!, { from: path.join(plan.folder.dir, step.saved!) }, 0o755, { alsoOwners: qemuUsers() })));
    }
    return staged;
}

/** Every disk, one after the other: from its chain at the floor (restore-disk.ts), raw images as they are (-r). */
export async function writeDisks(plan: RestorePlan, undo: UndoStack, options: { signal?: AbortSignal; tuning?: RestoreTuning; onProgress: (p: DiskProgress) => void }): Promise<WrittenDisk[]> {
    const written: WrittenDisk[] = [];
    const add = (disk: DiskResult) => {
        const w: WrittenDisk = { disk, published: false };
        undo.onFailure(
            () => w.published ? fsp.rm(disk.file, { force: true }).catch(() => {}) : disk.discard(),
            () => fs.rmSync(disk.partial, { force: true }));
        written.push(w);
    };
    for (const job of plan.jobs)
        add(await restoreDisk(job, undo, options));
    for (const job of plan.rawJobs)
        add(await restoreRawImage(job, undo, options));
    return written;
}

/**
 * The domain config: as saved, or adjusted for the new VM (-c/-D: its name, the restored images, the boot
 * files beside it). Undefined when none is written; `warn` says why when one was asked for.
 */
export async function stageConfig(req: { adjustConfig?: boolean; define?: boolean; sequence?: string[] }, plan: RestorePlan, outputs: RestoreOutputs, disks: WrittenDisk[], undo: UndoStack, warn: (message: string) => void): Promise<StagedFile | undefined> {
    const { adjust, configTarget, name, boot } = outputs;
    if (plan.config && configTarget && req.sequence === undefined) {
        const original = await fsp.readFile(path.join(plan.folder.dir, plan.config.name), "utf8");
        const xml = adjust
            ? adjustDomainConfig(original, { name, restored: new Map(disks.map(d => [d.disk.dev, d.disk.file])), boot: boot?.configBoot })
            : original;
        if (!adjust && fs.existsSync(configTarget)) {
            warn(`${configTarget} exists: the original config was not copied`);
            return undefined;
        }
        return stage(undo, await StagedFile.stage(configTarget, { data: xml }));
    }
    if (req.adjustConfig || req.define)
        warn(req.sequence ? "a --sequence restore writes no domain config" : "the backup holds no domain config (vmconfig.*.xml)");
    return undefined;
}

/** Names everything together: the disks, then the staged files in the order they were written. */
export async function publishOutputs(disks: WrittenDisk[], staged: StagedFile[]): Promise<void> {
    for (const d of disks) {
        await d.disk.publish();
        d.published = true;
    }
    for (const f of staged)
        await f.publish();
}

function stage(undo: UndoStack, file: StagedFile): StagedFile {
    undo.onFailure(() => file.discard(), () => file.discardNow());
    return file;
}
