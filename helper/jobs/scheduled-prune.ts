// SPDX-License-Identifier: GPL-3.0-or-later
// After a scheduled backup succeeded, the VM's retention policy ("keep the last N chains", then "keep the
// last N points of each chain", which consolidates older points) is applied and
// what it removed is added to the job's state (a failure to prune is a warning of the job, not its failure).
// Chains and points something reads (a mapping, a browse session, a VM started from backup) are skipped with
// a warning in the job's state and the host's log; the next scheduled run prunes them.
import { writeFileAtomic } from "./atomic-file.ts";
import { statusFile } from "./paths.ts";
import { pruneChains } from "./prune.ts";
import { recordScheduledPrune } from "./prune-history.ts";
import { applyPointPolicy } from "./consolidate.ts";
import { hasPointPolicy } from "./point-retention.ts";
import { pointPolicyOf, readSettings } from "./settings.ts";
import type { BackupJobState } from "../protocol/job-types.ts";
import { logJobLine } from "./job-log.ts";

export async function pruneAfterSchedule(job: BackupJobState): Promise<BackupJobState> {
    let next: BackupJobState;
    try {
        const settings = readSettings(job.uuid, job.domain);
        const policy = pointPolicyOf(settings);
        if (settings.keepChains === null && !hasPointPolicy(policy))
            return job;
        const opts = { uuid: job.uuid, domain: job.domain, dryRun: false, inUse: "skip" as const };
        const keep = settings.keepChains;
        const result = keep === null ? undefined : await recordScheduledPrune(job.uuid, () => pruneChains(settings.folder, keep, opts));
        // Then the points of the chains left: the ones the policy drops are merged away.
        const merged = await applyPointPolicy(settings.folder, policy, opts);
        next = { ...job, pruned: {
            chains: result?.removed.map(c => c.name) ?? [],
            freed: (result?.freed ?? 0) + merged.reduce((sum, m) => sum + m.freed, 0),
            ...(merged.length ? { points: merged.flatMap(m => m.dropped.map(p => m.chain ? `${m.chain}/${p}` : p)) } : {}),
        } };
        const skipped = [
            ...(result?.skipped ?? []).map(s => `an old chain was not removed: ${s.reason}`),
            ...merged.flatMap(m => m.skipped).map(s => `a restore point was not merged away: ${s}`),
        ];
        if (skipped.length) {
            next.warnings = [...next.warnings, ...skipped];
            for (const warning of skipped)
                await logJobLine({ name: job.domain, uuid: job.uuid }, "warning", warning).catch(() => {});
        }
    } catch (err) {
        next = { ...job, warnings: [...job.warnings, `old chains were not removed: ${err instanceof Error ? err.message : String(err)}`] };
    }
    writeFileAtomic(statusFile(job.uuid), JSON.stringify({ ...next, updatedAt: Date.now() }) + "\n");
    return next;
}
