// SPDX-License-Identifier: GPL-3.0-or-later
// The detached process behind one restore job (`helper run-restore-job`): holds the VM's job lock (so that
// no backup of the VM, from the page or by hand, runs meanwhile), runs our virtnbdrestore with --json
// through the shared runner, and removes the target folder again when the restore made it and failed.
import fs from "node:fs";
import { JobLockedError, lockJob } from "../backup/lock.ts";
import nodeOptions from "../cli/node-options.json";
import { runCliJob, startingState } from "./runner.ts";
import { loggedJob, type JobLog } from "./job-log.ts";
import { applyRestoreEvent, finishRestoreState, initialRestoreState, type NewRestoreJob, type RestoreCliEvent } from "./restore-state.ts";
import { statusFile } from "./paths.ts";
import { StateWriter } from "./state-writer.ts";
import { recordRefusedJob } from "./job-history.ts";
import type { RestoreJobState } from "../protocol/job-types.ts";
import { pidNamespace } from "../tools/proc.ts";

export interface RunRestoreOptions extends NewRestoreJob {
    /** The built virtnbdrestore.js beside helper.js. */
    cliPath: string;
    /** -u: a data file of the point (stands for the point on every disk, whatever its kind). */
    until: string;
}

/** The argv (after node) of the restore CLI for a job. -r: raw-format disks come back too. */
export function restoreCliArgs(job: RunRestoreOptions): string[] {
    return [job.cliPath, "--json", "-i", job.folder, "-o", job.target, "-u", job.until, "-r",
        ...(job.define && job.name !== undefined ? ["-c", "-D", "-N", job.name] : [])];
}

export async function runRestoreJob(job: RunRestoreOptions, log: JobLog): Promise<RestoreJobState> {
    const initial = startingState(job.uuid, job.id, initialRestoreState(job, Date.now()));
    let lock;
    try {
        lock = await lockJob(job.uuid, job.domain);
    } catch (err) {
        if (!(err instanceof JobLockedError))
            throw err;
        const writer = new StateWriter<RestoreJobState>(statusFile(job.uuid), initial);
        const now = Date.now();
        // The runner never started: the history still tells that the restore was asked for and why it failed
        // (written before the state, as the runner does).
        recordRefusedJob(job.uuid, initial, err.message, now);
        writer.update({ ...initial, runnerPid: process.pid, runnerPidNs: pidNamespace() ?? undefined, state: "failed", message: err.message, updatedAt: now, finishedAt: now });
        writer.flush();
        log.write("err", `restore ${job.id} of ${job.domain} failed: ${err.message}`);
        return writer.current;
    }
    const targetExisted = fs.existsSync(job.target);
    try {
        const end = await runCliJob<RestoreJobState, RestoreCliEvent>(loggedJob({
            uuid: job.uuid,
            id: job.id,
            initial,
            argv: restoreCliArgs(job),
            name: "virtnbdrestore",
            nodeOptions: nodeOptions.virtnbdrestore,
            apply: applyRestoreEvent,
            finish: finishRestoreState,
        }, log));
        // The CLI removes what it wrote; the folder it created for that goes too (only if empty).
        if (end.state !== "succeeded" && !targetExisted) {
            try {
                fs.rmdirSync(job.target);
            } catch {
                // not empty, or already gone: leave it
            }
        }
        return end;
    } finally {
        lock.release();
    }
}
