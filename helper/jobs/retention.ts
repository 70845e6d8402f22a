// SPDX-License-Identifier: GPL-3.0-or-later
// One retention run over a VM's backup folder, as `helper prune` and `virtnbdprune` run it: keep the last N
// chains (prune.ts), then the points policy inside each chain left (consolidate.ts). A run that changes
// things first checks both as a dry run, so that a refusal (a chain or point in use, a bad folder) comes
// before anything is removed, not between the two halves.
import type { InUsePolicy } from "./chain-users.ts";
import { applyPointPolicy, type ChainPolicyAnswer, type MergeProgress } from "./consolidate.ts";
import { hasPointPolicy, type PointPolicy } from "./point-retention.ts";
import { pruneChains, type PruneAnswer } from "./prune.ts";

export interface RetentionRules {
    /** Keep the last N chains; null: all. */
    keepChains: number | null;
    points: PointPolicy;
}

export interface RetentionAnswer {
    chains?: PruneAnswer;
    /** The chains the points policy changes (or would). */
    points?: ChainPolicyAnswer[];
    /** Bytes freed (or to free) by both. */
    freed: number;
}

/**
 * Applies `rules` to the VM folder (dry run: only says what would go). `removeChains` runs the chains half
 * (e.g. recorded in the VM's history); by default pruneChains as it is.
 */
export async function applyRetention(folder: string, rules: RetentionRules,
                                     opts: { uuid: string; domain: string; dryRun: boolean; inUse?: InUsePolicy; signal?: AbortSignal; onProgress?: MergeProgress },
                                     removeChains: (keep: number) => Promise<PruneAnswer> = keep => pruneChains(folder, keep, opts)): Promise<RetentionAnswer> {
    if (!opts.dryRun)
        await applyRetention(folder, rules, { ...opts, dryRun: true });
    const chains = rules.keepChains === null ? undefined : await removeChains(rules.keepChains);
    // A dry run says what the points policy does to the chains the first half leaves.
    const except = chains?.removed.map(c => c.name) ?? [];
    opts.signal?.throwIfAborted();
    const points = hasPointPolicy(rules.points) ? await applyPointPolicy(folder, rules.points, { ...opts, except }) : undefined;
    const freed = (chains?.freed ?? 0) + (points ?? []).reduce((sum, p) => sum + p.freed, 0);
    return { ...(chains ? { chains } : {}), ...(points ? { points } : {}), freed };
}
