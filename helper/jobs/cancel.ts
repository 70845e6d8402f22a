// Cancelling the VM's running job: mark the job as cancelled for its runner, then SIGTERM the backup
// CLI (which ends the libvirt job, deletes its checkpoint and removes its files) after checking that
// the pid from the state file is still that process.
import fs from "node:fs";
import { cancelFile } from "./paths.ts";
import { isOurBackupProcess } from "../tools/proc.ts";
import { currentJob } from "./status.ts";
import type { CancelAnswer } from "./types.ts";

export class NoJobError extends Error {
    override readonly name = "NoJobError";
}

export function cancelJob(uuid: string, domain: string): CancelAnswer {
    const job = currentJob(uuid);
    if (!job || job.state !== "running")
        throw new NoJobError(`no backup of ${domain} is running`);
    fs.writeFileSync(cancelFile(uuid), job.id, { mode: 0o600 });
    // The runner records the CLI's pid, then looks for the mark. Reading the pid again after writing the
    // mark closes the gap between the two: either the runner sees the mark, or we see the pid.
    const again = job.pid === null ? currentJob(uuid) : undefined;
    const pid = job.pid ?? (again?.id === job.id ? again.pid : null);
    if (pid === null)
        return { id: job.id, pid: null };  // the runner checks the mark right after it starts the CLI
    if (!isOurBackupProcess(pid, job.domain, job.runnerPid)) {
        // The CLI has just ended (the runner is writing the final state) or the pid is not ours.
        throw new NoJobError(`the backup process of ${domain} (pid ${pid}) is no longer running`);
    }
    process.kill(pid, "SIGTERM");
    return { id: job.id, pid };
}
