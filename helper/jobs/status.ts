// SPDX-License-Identifier: GPL-3.0-or-later
// The VM's current or last job as its state file says, corrected when the runner died without
// writing an end (killed, host crash): such a job is reported, and recorded, as failed.
import { readJsonFile, writeFileAtomic } from "./atomic-file.ts";
import { statusFile } from "./paths.ts";
import { processArgv, processLiveness } from "../tools/proc.ts";
import type { JobState } from "../protocol/job-types.ts";

/** A runner that has not written its pid within this time after the start never ran. */
const RUNNER_START_MS = 30_000;

function runnerGone(job: JobState, now: number): boolean {
    if (job.runnerPid === null)
        return now - job.startedAt > RUNNER_START_MS;
    // A runner of another PID namespace (a container sharing /run) is never taken for dead: its pid means nothing here.
    const liveness = processLiveness({ pid: job.runnerPid, pidNs: job.runnerPidNs });
    if (liveness !== "running")
        return liveness === "gone";
    const argv = processArgv(job.runnerPid);
    const command = job.kind === "restore" ? "run-restore-job" : "run-job";
    return argv === null || !argv.includes(command) || !argv.includes(job.id);
}

export function currentJob(uuid: string, now = Date.now()): JobState | undefined {
    const file = statusFile(uuid);
    const job = readJsonFile(file) as JobState | undefined;
    if (!job || job.state !== "running" || !runnerGone(job, now))
        return job;
    const ended: JobState = {
        ...job, state: "failed", updatedAt: now, finishedAt: now,
        message: `the ${job.kind === "restore" ? "restore" : "backup"} job ended without reporting a result (its process was stopped)`,
    };
    writeFileAtomic(file, JSON.stringify(ended) + "\n");
    return ended;
}
