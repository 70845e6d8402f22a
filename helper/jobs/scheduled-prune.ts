// After a scheduled backup succeeded, the VM's retention policy ("keep the last N chains") is applied and
// what it removed is added to the job's state (a failure to prune is a warning of the job, not its failure).
import { writeFileAtomic } from "./atomic-file.ts";
import { statusFile } from "./paths.ts";
import { pruneChains } from "./prune.ts";
import { recordScheduledPrune } from "./prune-history.ts";
import { readSettings } from "./settings.ts";
import type { BackupJobState } from "./types.ts";

export async function pruneAfterSchedule(job: BackupJobState): Promise<BackupJobState> {
    let next: BackupJobState;
    try {
        const settings = readSettings(job.uuid, job.domain);
        if (settings.keepChains === null)
            return job;
        const keep = settings.keepChains;
        const result = await recordScheduledPrune(job.uuid, () => pruneChains(settings.folder, keep, { uuid: job.uuid, domain: job.domain, dryRun: false }));
        next = { ...job, pruned: { chains: result.removed.map(c => c.name), freed: result.freed } };
    } catch (err) {
        next = { ...job, warnings: [...job.warnings, `old chains were not removed: ${err instanceof Error ? err.message : String(err)}`] };
    }
    writeFileAtomic(statusFile(job.uuid), JSON.stringify({ ...next, updatedAt: Date.now() }) + "\n");
    return next;
}
