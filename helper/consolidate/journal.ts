// SPDX-License-Identifier: GPL-3.0-or-later
// The switch of a consolidation, crash-safe. New files are written into a staging folder of the chain
// (`.virtnbdbackup.consolidate.d`, which neither tool reads), published there with their checksums and
// verified. Then the journal is written (atomically): from that moment the consolidation is decided and is
// rolled forward — by the run itself, or after a SIGKILL by the next consolidation, backup or pruning of the
// chain (they hold the VM's job lock). Without a journal a staging folder is a dead run's: it is removed.
//
// Rolling forward is idempotent: each new file is given its mtime (the other tool's restore orders files by
// mtime) and renamed into the chain, checksum first, so a data file never appears without its checksum; then
// the merged-away files go, the oldest full first (the other tool then refuses the chain rather than apply a
// partial one), then the journal.
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../fs/safe-open.ts";
import { checksumFileName, parseDataFileName } from "../format/index.ts";
import { otherNamespaceMessage, processLiveness } from "../tools/proc.ts";
import { lockFoldersForChange } from "../backup/folder-lock.ts";

export const CONSOLIDATE_JOURNAL = ".virtnbdbackup.consolidate";
export const STAGING_DIR = ".virtnbdbackup.consolidate.d";

export interface SwitchJournal {
    pid: number;
    /** The consolidation's PID namespace (tools/proc.ts; absent in journals of older versions). */
    pidNs?: number;
    /** New data files in the staging folder (base names), each with the mtime (seconds) it gets. */
    moves: { name: string; mtime: number }[];
    /** Files of the chain folder removed after the moves, in this order (base names). */
    removes: string[];
}

/** Where a consolidation is (for a caller that reports it, or a test that kills the run there). */
export type SwitchStep = (step: "written" | "verified" | "committed" | "moved" | "removed", file?: string) => void;

/** A plain file name of the chain folder: no path, not hidden. */
function plainName(name: unknown): name is string {
    return typeof name === "string" && name !== "" && name === path.basename(name) && !name.startsWith(".") && name !== "..";
}

/** Writes the journal: the consolidation is decided from here on. */
export function commitSwitch(chainDir: string, journal: SwitchJournal): void {
    if (!journal.moves.every(m => plainName(m.name) && parseDataFileName(m.name) !== null) || !journal.removes.every(plainName))
        throw new Error("a consolidation journal names only plain file names of the chain folder");
    writeFileAtomic(path.join(chainDir, CONSOLIDATE_JOURNAL), JSON.stringify(journal), 0o600);
    syncDir(chainDir);
}

/** Carries out a committed journal (again, after a crash: every step is idempotent), then removes it. */
export function rollForward(chainDir: string, journal: SwitchJournal, onStep?: SwitchStep): void {
    const staging = path.join(chainDir, STAGING_DIR);
    for (const move of journal.moves) {
        if (!plainName(move.name) || parseDataFileName(move.name) === null)
            continue;  // the journal is not trusted to point elsewhere
        const from = path.join(staging, move.name);
        const to = path.join(chainDir, move.name);
        if (fs.existsSync(from)) {
            if (Number.isFinite(move.mtime))
                fs.utimesSync(from, move.mtime, move.mtime);
            const sumFrom = checksumFileName(from);
            if (fs.existsSync(sumFrom))
                fs.renameSync(sumFrom, checksumFileName(to));
            fs.renameSync(from, to);
            onStep?.("moved", move.name);
        }
    }
    // The new files' names are durable before any old file goes. The removals and the journal's own need no
    // sync: one a crash undoes is done again by the next recovery (the journal stays until it is removed).
    syncDir(chainDir);
    for (const name of journal.removes) {
        if (plainName(name)) {
            fs.rmSync(path.join(chainDir, name), { force: true });
            onStep?.("removed", name);
        }
    }
    removeStaging(chainDir);
    fs.rmSync(path.join(chainDir, CONSOLIDATE_JOURNAL), { force: true });
}

/**
 * What a dead consolidation left in the chain folder, finished: a journal is rolled forward, a staging
 * folder without one removed. Returns what was done ("forward", "back") or undefined when nothing was left.
 * The caller holds the VM's job lock and the folder's exclusive lock (backup/folder-lock.ts: a mapping
 * starting meanwhile would read files the roll-forward removes); recoverConsolidationLocked takes that one.
 */
export function recoverConsolidation(chainDir: string): "forward" | "back" | undefined {
    const file = path.join(chainDir, CONSOLIDATE_JOURNAL);
    let journal: SwitchJournal | undefined;
    try {
        journal = JSON.parse(fs.readFileSync(file, "utf8")) as SwitchJournal;
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT")
            fs.rmSync(file, { force: true });  // written atomically: unreadable is not ours
    }
    if (journal && Array.isArray(journal.moves) && Array.isArray(journal.removes)) {
        const writer = { pid: journal.pid, pidNs: journal.pidNs };
        const liveness = processLiveness(writer);
        if (liveness === "other-namespace")
            throw new Error(otherNamespaceMessage(`the consolidation journal of ${chainDir}`, writer));
        if (liveness === "running" && journal.pid !== process.pid)
            throw new Error(`another consolidation (process ${journal.pid}) is switching the files of ${chainDir}`);
        rollForward(chainDir, journal);
        return "forward";
    }
    if (fs.existsSync(path.join(chainDir, STAGING_DIR))) {
        removeStaging(chainDir);
        return "back";
    }
    return undefined;
}

/** Whether a dead consolidation may have left something in the chain folder (a journal or a staging folder). */
export function consolidationLeftovers(chainDir: string): boolean {
    return fs.existsSync(path.join(chainDir, CONSOLIDATE_JOURNAL)) || fs.existsSync(path.join(chainDir, STAGING_DIR));
}

/**
 * recoverConsolidation for a caller that holds only the VM's job lock (a backup run): when something is
 * left, under the chain folder's exclusive lock, so a mapping starting meanwhile waits for the switch to
 * be finished instead of reading files it removes.
 */
export async function recoverConsolidationLocked(chainDir: string, opts: { dir?: string; waitMs?: number; signal?: AbortSignal } = {}):
Promise<"forward" | "back" | undefined> {
    if (!consolidationLeftovers(chainDir))
        return undefined;
    const lock = await lockFoldersForChange([chainDir], opts);
    try {
        return recoverConsolidation(chainDir);
    } finally {
        lock.release();
    }
}

/** Removes the staging folder and the files in it (only plain files: it holds nothing else of ours). */
export function removeStaging(chainDir: string): void {
    const staging = path.join(chainDir, STAGING_DIR);
    let names: string[];
    try {
        names = fs.readdirSync(staging);
    } catch {
        return;
    }
    for (const n of names) {
        try {
            fs.rmSync(path.join(staging, n), { force: true });
        } catch {
            // not a file of ours (a folder someone put there): it stays, and so does the staging folder
        }
    }
    try {
        fs.rmdirSync(staging);
    } catch { /* not empty: see above */ }
}

/** Makes a fresh, empty staging folder (0700). */
export function makeStaging(chainDir: string): string {
    const staging = path.join(chainDir, STAGING_DIR);
    fs.mkdirSync(staging, { mode: 0o700 });
    return staging;
}

function syncDir(dir: string): void {
    const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
        fs.fsyncSync(fd);
    } finally {
        fs.closeSync(fd);
    }
}
