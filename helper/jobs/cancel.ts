// SPDX-License-Identifier: GPL-3.0-or-later
// Cancelling the VM's running job: mark the job as cancelled for its runner, then SIGTERM the CLI after
// checking that the pid from the state file is still that process. The backup CLI ends the libvirt job,
// deletes its checkpoint and removes its files; the restore CLI removes everything it wrote.
import fs from "node:fs";
import path from "node:path";
import { cancelFile } from "./paths.ts";
import { isOurBackupProcess, otherNamespaceMessage, processArgv, processLiveness, processStat } from "../tools/proc.ts";
import { currentJob } from "./status.ts";
import type { CancelAnswer, JobState } from "../protocol/job-types.ts";

/** Whether argv is `node .../virtnbdrestore.js --json ...` as the restore runner starts it. */
export function isRestoreCli(argv: string[]): boolean {
    return argv.length >= 3 && /^node/.test(path.basename(argv[0] ?? "")) &&
        path.basename(argv[1] ?? "") === "virtnbdrestore.js" && argv[2] === "--json";
}

/** Whether `pid` is the job's CLI: the right program, started by the job's runner. */
function isJobProcess(job: JobState, pid: number): boolean {
    if (job.kind !== "restore")
        return isOurBackupProcess(pid, job.domain, job.runnerPid);
    const argv = processArgv(pid);
    return argv !== null && isRestoreCli(argv) && job.runnerPid !== null && processStat(pid)?.ppid === job.runnerPid;
}

export class NoJobError extends Error {
    override readonly name = "NoJobError";
}

export function cancelJob(uuid: string, domain: string): CancelAnswer {
    const job = currentJob(uuid);
    if (!job || job.state !== "running")
        throw new NoJobError(`no backup or restore of ${domain} is running`);
    const runner = { pid: job.runnerPid ?? 0, pidNs: job.runnerPidNs };
    if (job.runnerPid !== null && processLiveness(runner) === "other-namespace")
        throw new Error(otherNamespaceMessage(`the ${job.kind === "restore" ? "restore" : "backup"} job of ${domain}`, runner));
    fs.writeFileSync(cancelFile(uuid), job.id, { mode: 0o600 });
    // The runner records the CLI's pid, then looks for the mark. Reading the pid again after writing the
    // mark closes the gap between the two: either the runner sees the mark, or we see the pid.
    const again = job.pid === null ? currentJob(uuid) : undefined;
    const pid = job.pid ?? (again?.id === job.id ? again.pid : null);
    if (pid === null)
        return { id: job.id, pid: null };  // the runner checks the mark right after it starts the CLI
    if (!isJobProcess(job, pid)) {
        // The CLI has just ended (the runner is writing the final state) or the pid is not ours.
        throw new NoJobError(`the ${job.kind === "restore" ? "restore" : "backup"} process of ${domain} (pid ${pid}) is no longer running`);
    }
    process.kill(pid, "SIGTERM");
    return { id: job.id, pid };
}
