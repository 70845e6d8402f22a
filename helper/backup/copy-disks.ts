// SPDX-License-Identifier: GPL-3.0-or-later
// The fifth phase of a backup run: every disk copied from its export into its file, `workers` at a time.
// Each file (its .partial and .chksum too) is journaled before it is created, so a failed or killed run's
// files go (undo: the journal's rollback). One disk failing stops the others: the run fails as a whole.
import path from "node:path";
import { chainFullFileName, checksumFileName, dataFileName, partialFileName } from "../format/index.ts";
import type { CheckedPlan } from "./chain-check.ts";
import type { ExportedDisks } from "./disk-export.ts";
import { backupDisk } from "./disk-copy.ts";
import type { BackupRun, OpenFolder } from "./run-context.ts";

export type CopiedDisk = Awaited<ReturnType<typeof backupDisk>>;

/** `onCopyStarted`: called when a disk's copy has its first reads asked for (once per disk). */
export async function copyDisks(run: BackupRun, folder: OpenFolder, { plan, fallback, disks }: CheckedPlan, exported: ExportedDisks, stopAll: AbortController, onCopyStarted: () => void): Promise<CopiedDisk[]> {
    // The job ends as soon as every disk has read its last byte, while the files are still being finished.
    let readersLeft = disks.length;
    const sourceDone = () => {
        if (--readersLeft === 0 && !stopAll.signal.aborted)
            exported.readingDone();
    };
    return inParallel(disks, run.options.workers ?? disks.length, async disk => {
        // As the other tool does: raw images (of -t raw, and of raw-format disks, always "copy") keep
        // the .data name; readers tell them from streams by the missing meta frame.
        const level = disk.driverType === "raw" ? "copy" : plan.level;
        const file = path.join(folder.output, fallback ? chainFullFileName(disk.target, plan.ident)
            : dataFileName(disk.target, level, level === "full" || level === "copy" ? undefined : plan.ident));
        folder.journal.add(file, partialFileName(file), checksumFileName(file));
        return backupDisk(disk, exported.byTarget.get(disk.target)!, file, plan, { ...run.options, signal: stopAll.signal },
            { now: run.now, domainUuid: run.domain.uuid }, run.note, { onSourceDone: sourceDone, onCopyStarted });
    }, () => stopAll.abort(new Error("another disk failed")));
}

async function inParallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>, onFirstError: () => void): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    let failed: unknown;
    const worker = async () => {
        while (next < items.length && failed === undefined) {
            const i = next++;
            try {
                results[i] = await fn(items[i]);
            } catch (err) {
                if (failed === undefined) {
                    failed = err;
                    onFirstError();
                }
            }
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
    if (failed !== undefined)
        throw failed;
    return results;
}
