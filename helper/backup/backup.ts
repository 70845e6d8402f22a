// SPDX-License-Identifier: GPL-3.0-or-later
// One backup run of one VM, as phases under the VM's lock: open the folder (open-folder.ts), choose the
// level (level-choice.ts), check libvirt's side of the chain (chain-check.ts), export the disks over NBD
// (disk-export.ts: libvirt pull-mode job, or qemu-nbd for a VM that is off), copy each disk through the
// shared pipeline into the folder (copy-disks.ts), then record the chain (run-records.ts). Each phase that
// makes something pushes its undo; any failure or cancellation unwinds them newest first: the job is ended,
// its checkpoint deleted, its files removed; the chain stays as it was. A run killed outright is undone by
// the next one from its journal.
import path from "node:path";
import { logFileName } from "../format/index.ts";
import { UndoStack } from "../run/undo-stack.ts";
import { checkChain } from "./chain-check.ts";
import { CheckpointRegistry } from "./checkpoint-registry.ts";
import { copyDisks } from "./copy-disks.ts";
import { exportDisks } from "./disk-export.ts";
import { loadDomain } from "./domain.ts";
import { removeJobDirs } from "./job-dir.ts";
import { chooseLevel } from "./level-choice.ts";
import { lockJob } from "./lock.ts";
import { closeUnchanged, openFolder } from "./open-folder.ts";
import type { BackupRun } from "./run-context.ts";
import { RunLog } from "./run-log.ts";
import { commitRun, fetchRecords } from "./run-records.ts";
import { errorMessage, type BackupOptions, type BackupResult } from "./types.ts";

export { errorMessage, type BackupEvent, type BackupOptions, type BackupResult } from "./types.ts";

export async function runBackup(options: BackupOptions): Promise<BackupResult> {
    const started = Date.now();
    const emit = options.onEvent ?? (() => {});
    checkCancelled(options.signal);
    // One disk failing stops the others: the run fails as a whole.
    const stopAll = new AbortController();
    const onCancel = () => stopAll.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onCancel);

    const { domain, xml: vmConfig, active } = await loadDomain(options.domain, options.uri, options.definition);
    const lock = await lockJob(domain.uuid, domain.name);
    const undo = new UndoStack();
    // Unwound last, in this order, however the run ends.
    undo.always(() => lock.release());
    undo.always(() => removeJobDirs(domain.uuid));
    undo.always(() => options.signal?.removeEventListener("abort", onCancel));
    const log = new RunLog(emit);
    undo.always(() => log.end());
    const run: BackupRun = {
        options, uri: options.uri, now: options.now ?? new Date(), registry: options.registry ?? new CheckpointRegistry(),
        domain, vmConfig, active, lock, emit, note: log.note, log, undo,
    };

    let result: BackupResult;
    try {
        const folder = await openFolder(run);
        const choice = await chooseLevel(run, folder);
        const { plan } = choice;
        if (choice.skip) {
            closeUnchanged(folder);
            result = {
                domain: domain.name, level: plan.level, checkpoint: "", parent: plan.parentCheckpoint,
                files: [], disks: [], seconds: (Date.now() - started) / 1000, changedBytes: choice.skip.changedBytes, skipped: true,
            };
        } else {
            log.open(path.join(folder.output, logFileName(plan.level, run.now)));
            for (const message of plan.notes)
                run.note({ event: "info", message });
            const checked = await checkChain(run, folder, choice);
            checkCancelled(options.signal);
            const exported = await exportDisks(run, folder, choice, checked);
            const { disks } = checked;
            run.note({ event: "plan", domain: domain.name, level: checked.plan.level, checkpoint: checked.plan.checkpointName, parent: checked.plan.parentCheckpoint, online: choice.online, disks: disks.map(d => ({ dev: d.target, size: 0 })) });
            // The records are asked for once the first reads are out: their processes start beside the copy,
            // not in the way of its first requests.
            let records: ReturnType<typeof fetchRecords> | undefined;
            const startRecords = () => records ??= fetchRecords(run, disks, exported.createdCheckpoint);
            const copied = await copyDisks(run, folder, checked, exported, stopAll, startRecords);
            await commitRun(run, folder, checked, exported, startRecords());
            result = {
                domain: domain.name,
                level: checked.plan.level,
                checkpoint: checked.plan.checkpointName,
                parent: checked.plan.parentCheckpoint,
                files: copied.map(r => r.file),
                disks: copied,
                seconds: (Date.now() - started) / 1000,
            };
            run.note({ event: "info", message: `backup finished: ${result.files.map(f => path.basename(f)).join(", ")}` });
        }
    } catch (err) {
        run.note({ event: "warning", message: `backup failed: ${errorMessage(err)}` });
        // Whatever the undo meets is reported by its steps; the run's own error is the one to tell.
        await undo.unwind(true).catch(() => {});
        throw err;
    }
    await undo.unwind(false);
    return result;
}

function checkCancelled(signal?: AbortSignal) {
    if (signal?.aborted)
        throw new Error("the backup was cancelled");
}
