// SPDX-License-Identifier: GPL-3.0-or-later
// The hidden runner commands (`run-job`, `run-restore-job`) take their values on the command line like any
// other: whoever can run the helper can run them by hand, so they pass the same checks as the page's
// requests (folder rules and trust, restore target, VM name), and the VM and its UUID must agree.
import { checkVmName, describeNameProblem } from "../protocol/restore-rules.ts";
import { readJsonFile, writeFileAtomic } from "./atomic-file.ts";
import { checkUuid, statusFile } from "./paths.ts";
import { validateRestoreTarget } from "./restore-target.ts";
import { validateFolder } from "./settings.ts";
import type { JobState } from "../protocol/job-types.ts";

/** As start.ts makes them: base-36 milliseconds, a dash, 8 hex digits. */
const JOB_ID = /^[0-9a-z]{1,16}-[0-9a-f]{8}$/;

export class RunnerArgumentError extends Error {
    override readonly name = "RunnerArgumentError";
}

export interface RunnerVm {
    name: string;
    uuid: string;
}

function checkCommon(id: string, uuid: string, vm: RunnerVm): string {
    if (!JOB_ID.test(id))
        throw new RunnerArgumentError(`invalid job id ${JSON.stringify(id)}`);
    const lower = checkUuid(uuid);
    if (vm.uuid.toLowerCase() !== lower)
        throw new RunnerArgumentError(`${vm.name} has UUID ${vm.uuid}, not ${uuid}`);
    return lower;
}

/** run-job's values; returns the backup folder as the settings would store it. */
export function checkBackupRunnerArgs(opts: { id: string; uuid: string; folder: string }, vm: RunnerVm): { folder: string } {
    checkCommon(opts.id, opts.uuid, vm);
    return { folder: validateFolder(opts.folder) };
}

/** run-restore-job's values; returns the backup folder and the target's real path. */
export function checkRestoreRunnerArgs(opts: { id: string; uuid: string; folder: string; target: string; name?: string }, vm: RunnerVm): { folder: string; target: string } {
    checkCommon(opts.id, opts.uuid, vm);
    const folder = validateFolder(opts.folder);
    if (opts.name !== undefined) {
        const problem = checkVmName(opts.name);
        if (problem)
            throw new RunnerArgumentError(describeNameProblem(problem));
    }
    return { folder, target: validateRestoreTarget(opts.target, folder) };
}

/**
 * A runner that refuses its arguments ends the job the page started for it (same id, still running) as
 * failed with the reason, so the page shows why; other jobs' states are left alone.
 */
export function failStartedJob(uuid: string, id: string, message: string): void {
    let file: string;
    try {
        file = statusFile(uuid);
    } catch {
        return;  // not a UUID: no job of ours
    }
    const stored = readJsonFile(file) as JobState | undefined;
    if (!stored || stored.id !== id || stored.state !== "running")
        return;
    const now = Date.now();
    writeFileAtomic(file, JSON.stringify({ ...stored, state: "failed", message, updatedAt: now, finishedAt: now }) + "\n");
}
