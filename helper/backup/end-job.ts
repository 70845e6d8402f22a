// `virtnbdbackup -k`: ends a backup job left running on a VM (by a run that died, or started by hand).
// A running backup of ours holds the VM's lock and is cancelled instead; jobs that are not backups
// (a migration, say) are not ours to end.
import { runningJob, endJob, socketPath } from "./pull-job.ts";
import { loadDomain } from "./domain.ts";
import { BackupRefusedError } from "./levels.ts";
import { lockJob } from "./lock.ts";

/** "ended" when a backup job was running and is gone now, "none" when there was none. */
export async function endBackupJob(domainName: string, uri?: string): Promise<"ended" | "none"> {
    const { domain, active } = await loadDomain(domainName, uri);
    if (!active)
        return "none";
    const lock = await lockJob(domain.uuid, domain.name);
    try {
        const job = await runningJob(domain.name, uri);
        if (!job)
            return "none";
        if (job !== "Backup")
            throw new BackupRefusedError(`${domain.name} runs a ${job.toLowerCase()} job, not a backup: left alone`);
        await endJob(domain.name, uri, socketPath(domain.uuid));
        return "ended";
    } finally {
        lock.release();
    }
}
