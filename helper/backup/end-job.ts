// SPDX-License-Identifier: GPL-3.0-or-later
// `virtnbdbackup -k`: ends a backup job left running on a VM (by a run that died, by hand, or by another
// tool: the user asked for it, so any backup job; the answer says whose it was). A running backup of
// ours holds the VM's lock and is cancelled instead; jobs that are not backups (a migration, say) are
// not ours to end.
import { isOurSocket, removeJobDirs } from "./job-dir.ts";
import { backupJob, endJob, runningJob } from "./pull-job.ts";
import { loadDomain } from "./domain.ts";
import { BackupRefusedError } from "./levels.ts";
import { lockJob } from "./lock.ts";

export type EndedJob =
    | { outcome: "none" }
    /** `ours`: started by this project (its socket in our job directory); `socket` when it had a unix one. */
    | { outcome: "ended"; ours: boolean; socket?: string };

export async function endBackupJob(domainName: string, uri?: string): Promise<EndedJob> {
    const { domain, active } = await loadDomain(domainName, uri);
    if (!active)
        return { outcome: "none" };
    const lock = await lockJob(domain.uuid, domain.name);
    try {
        const job = await runningJob(domain.name, uri);
        if (!job)
            return { outcome: "none" };
        if (job !== "Backup")
            throw new BackupRefusedError(`${domain.name} runs a ${job.toLowerCase()} job, not a backup: left alone`);
        const running = await backupJob(domain.name, uri);
        if (!running)
            return { outcome: "none" };
        await endJob(domain.name, uri);
        const ours = running.socket !== undefined && isOurSocket(running.socket);
        if (ours)
            removeJobDirs(domain.uuid);
        return { outcome: "ended", ours, socket: running.socket };
    } finally {
        lock.release();
    }
}
