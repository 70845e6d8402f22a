// Consolidation of one chain of a VM's backup folder, as the page and `helper consolidate` run it: the
// chain is found in the VM's trusted folder, the VM's job lock is held (no backup, restore, verify or
// pruning runs meanwhile), a dead consolidation's leftovers are finished first. The engine: helper/consolidate/.
import fs from "node:fs";
import { lockJob } from "../backup/lock.ts";
import { consolidateChain, planChain, type ConsolidateAnswer } from "../consolidate/consolidate.ts";
import { recoverConsolidation } from "../consolidate/journal.ts";
import { pointForKeepLast } from "../consolidate/plan.ts";
import { readBackupFolder } from "../restore/folder.ts";
import { resolveTrustedFolder } from "../fs/trusted-folder.ts";
import { chainFolder, listChains } from "./chains.ts";
import { currentJob } from "./status.ts";

/** Which points go: every point up to a named one, or all but the last N. */
export type PointSelection = { until: string } | { keepLast: number };

export interface ConsolidateJobAnswer extends Omit<ConsolidateAnswer, "point"> {
    /** The chain ("" for the folder itself). */
    chain: string;
    /** The point the new full restores to; "" when nothing is to be merged. */
    point: string;
}

/** The point a selection merges up to in the chain folder; undefined when nothing goes. */
async function pointOf(dir: string, select: PointSelection): Promise<string | undefined> {
    if ("until" in select)
        return select.until;
    const folder = await readBackupFolder(dir);
    return pointForKeepLast(folder.files, folder.checkpointLists[0]?.checkpoints ?? null, select.keepLast);
}

/**
 * Consolidates chain `chain` (undefined: the newest) of the VM folder; a dry run says what would go.
 * `uuid`/`domain` name the VM whose job lock the change holds.
 */
export async function consolidateJob(vmFolder: string, chain: string | undefined, select: PointSelection,
                                     opts: { uuid: string; domain: string; dryRun: boolean }): Promise<ConsolidateJobAnswer> {
    const folder = resolveTrustedFolder(vmFolder, "a backup folder").folder;
    if (!fs.existsSync(folder))
        throw new Error(`${folder} does not exist`);
    const name = chain ?? listChains(folder).at(-1)?.name ?? "";
    const dir = chainFolder(folder, name);
    const nothing = (): ConsolidateJobAnswer => ({
        chain: name, folder: dir, point: "", dryRun: opts.dryRun, dropped: [], removed: [], removedBytes: 0, written: [], writtenBytes: 0, freed: 0,
    });
    if (opts.dryRun) {
        const point = await pointOf(dir, select);
        if (!point)
            return nothing();
        await planChain(dir, point);  // refusals are the same as when it runs
        return { chain: name, ...await consolidateChain(dir, point, { dryRun: true }) };
    }
    const job = currentJob(opts.uuid);
    if (job?.state === "running")
        throw new Error(`a ${job.kind ?? "backup"} of ${opts.domain} is running: nothing was changed`);
    const lock = await lockJob(opts.uuid, opts.domain);
    try {
        recoverConsolidation(dir);
        const point = await pointOf(dir, select);
        if (!point)
            return nothing();
        return { chain: name, ...await consolidateChain(dir, point, { dryRun: false }) };
    } finally {
        lock.release();
    }
}

/**
 * Keep the last `keep` restore points of every chain of the VM folder: each chain with more is consolidated
 * (a dry run says what would go). Chains with nothing to merge are left out of the answer.
 */
export async function keepPointsInChains(vmFolder: string, keep: number, opts: { uuid: string; domain: string; dryRun: boolean }): Promise<ConsolidateJobAnswer[]> {
    const folder = resolveTrustedFolder(vmFolder, "a backup folder").folder;
    if (!fs.existsSync(folder))
        return [];
    const answers: ConsolidateJobAnswer[] = [];
    for (const chain of listChains(folder)) {
        const result = await consolidateJob(folder, chain.name, { keepLast: keep }, opts);
        if (result.point)
            answers.push(result);
    }
    return answers;
}
