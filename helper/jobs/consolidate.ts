// SPDX-License-Identifier: GPL-3.0-or-later
// Consolidation of one chain of a VM's backup folder, as the page and `helper consolidate` run it: the
// chain is found in the VM's trusted folder, the VM's job lock is held (no backup, restore, verify or
// pruning runs meanwhile), a dead consolidation's leftovers are finished first, and no file a mapping, browse
// session or VM started from backup reads is merged away (chain-users.ts), nor one a mapping starting meanwhile
// would read (the chain folder's lock, backup/folder-lock.ts). The engine: helper/consolidate/.
import fs from "node:fs";
import path from "node:path";
import { lockJob } from "../backup/lock.ts";
import { lockFoldersForChange } from "../backup/folder-lock.ts";
import { consolidateChain, planChain, type ConsolidateAnswer, type MergeDisk } from "../consolidate/consolidate.ts";
import { recoverConsolidation } from "../consolidate/journal.ts";
import { chainPoints, ConsolidationRefused, pointForKeepLast, type ConsolidationPlan } from "../consolidate/plan.ts";
import { chainUsers, inUseMessage, inUseRefusal, userOfFiles, type ChainUser, type InUsePolicy } from "./chain-users.ts";
import { hasPointPolicy, keptPoints, mergeSteps, type DatedPoint, type MergeStep, type PointPolicy } from "./point-retention.ts";
import { readBackupFolder } from "../restore/folder.ts";
import { resolveTrustedFolder } from "../fs/trusted-folder.ts";
import { chainFolder, listChains, type ChainFolder } from "./chains.ts";
import { currentJob } from "./status.ts";

/** Which points go: every point up to a named one, or all but the last N. */
export type PointSelection = { until: string; from?: string } | { keepLast: number };

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

/** Every file a merge reads, replaces or removes (real paths: `chainDir` is one). Pure. */
export function touchedFiles(chainDir: string, plan: ConsolidationPlan): string[] {
    const names = new Set([...plan.removedFiles, ...plan.disks.flatMap(d => [...d.members.map(m => m.name), d.output])]);
    return [...names].map(n => path.join(chainDir, n));
}

/** Who reads a file the merge up to `point` (from `from`) changes; undefined when no one does or nothing merges. */
async function userOfMerge(chainDir: string, point: string, from: string | undefined, users: readonly ChainUser[]): Promise<ChainUser | undefined> {
    if (users.length === 0)
        return undefined;
    let plan: ConsolidationPlan;
    try {
        plan = await planChain(chainDir, point, from);
    } catch (err) {
        if (err instanceof ConsolidationRefused)
            return undefined;  // refused for its own reason, said when it runs
        throw err;
    }
    return userOfFiles(touchedFiles(chainDir, plan), users);
}

/** "the points up to virtnbdbackup.3 of chain-2", for a message. */
function mergeName(chain: string, point: string, from: string | undefined): string {
    return `the points ${from ? `from ${from} ` : ""}up to ${point} of ${chain || "the chain in the folder itself"}`;
}

/**
 * Consolidates chain `chain` (undefined: the newest) of the VM folder; a dry run says what would go.
 * `uuid`/`domain` name the VM whose job lock the change holds.
 */
export async function consolidateJob(vmFolder: string, chain: string | undefined, select: PointSelection,
                                     opts: { uuid: string; domain: string; dryRun: boolean; signal?: AbortSignal;
                                             onProgress?: MergeProgress }): Promise<ConsolidateJobAnswer> {
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
        const from = "from" in select ? select.from : undefined;
        await planChain(dir, point, from);  // refusals are the same as when it runs
        const user = await userOfMerge(dir, point, from, chainUsers());
        if (user)
            throw inUseRefusal(mergeName(name, point, from), user);
        return { chain: name, ...await consolidateChain(dir, point, { dryRun: true, from }) };
    }
    const job = currentJob(opts.uuid);
    if (job?.state === "running")
        throw new Error(`a ${job.kind ?? "backup"} of ${opts.domain} is running: nothing was changed`);
    const lock = await lockJob(opts.uuid, opts.domain);
    // From the check for files in use to the last removal, no mapping of the chain starts.
    const folders = await lockFoldersForChange([dir], { signal: opts.signal }).catch((err: unknown) => {
        lock.release();
        throw err;
    });
    try {
        recoverConsolidation(dir);
        const point = await pointOf(dir, select);
        if (!point)
            return nothing();
        const from = "from" in select ? select.from : undefined;
        const user = await userOfMerge(dir, point, from, chainUsers());
        if (user)
            throw inUseRefusal(mergeName(name, point, from), user);
        return { chain: name, ...await consolidateChain(dir, point, {
            dryRun: false, from, signal: opts.signal, onProgress: (d, total, disk) => opts.onProgress?.(name, point, d, total, disk),
        }) };
    } finally {
        folders.release();
        lock.release();
    }
}

/** A merge's progress: the chain, the point it merges up to, bytes of the disk being written done/total, which disk. */
export type MergeProgress = (chain: string, point: string, done: number, total: number, disk: MergeDisk) => void;

/** What a points policy does (or would do) to one chain. */
export interface ChainPolicyAnswer {
    chain: string;
    folder: string;
    dryRun: boolean;
    /** Points dropped (or to drop), oldest first. */
    dropped: string[];
    /** Points the policy drops that stay until a newer point exists (just before the newest one). */
    waiting: string[];
    /** Merges the policy needs that are refused, with the reason. */
    skipped: string[];
    /** Files removed (or to remove), relative to the chain folder. */
    removed: string[];
    removedBytes: number;
    writtenBytes: number;
    freed: number;
}

/** The chain's checkpoint points (oldest first) with their dates, and the merges `policy` needs. */
async function policySteps(dir: string, policy: PointPolicy) {
    const folder = await readBackupFolder(dir);
    const checkpoints = folder.checkpointLists[0]?.checkpoints ?? null;
    if (checkpoints === null)
        return { steps: [] as MergeStep[], waiting: [] as string[] };
    const dated: DatedPoint[] = [];
    for (const name of chainPoints(folder.files)) {
        const file = folder.files.find(f => f.level !== "diff" && f.meta.checkpointName === name && checkpoints.includes(name));
        if (file)
            dated.push({ name, date: new Date(Date.parse(file.meta.date) || 0) });
    }
    return mergeSteps(dated.map(p => p.name), keptPoints(dated, policy));
}

/**
 * Applies a points policy (keep-last/daily/weekly/monthly, point-retention.ts) to every chain of the VM folder by
 * consolidating the points it drops; a dry run says what would go. Chains it leaves alone are not in the answer.
 * A merge of files something reads (chain-users.ts) is refused before anything changes, or with `inUse: "skip"`
 * left out and named in the chain's `skipped`. Chains named in `except` are left alone (a pruning removes them).
 * `signal` stops the merge under way (its journal leaves the chain as before) and the ones after it.
 */
export async function applyPointPolicy(vmFolder: string, policy: PointPolicy,
                                       opts: { uuid: string; domain: string; dryRun: boolean; inUse?: InUsePolicy; except?: readonly string[];
                                               signal?: AbortSignal; onProgress?: MergeProgress }): Promise<ChainPolicyAnswer[]> {
    const folder = resolveTrustedFolder(vmFolder, "a backup folder").folder;
    if (!fs.existsSync(folder) || !hasPointPolicy(policy))
        return [];
    const run = async (): Promise<ChainPolicyAnswer[]> => {
        // Every chain's merges first, and the ones touching files in use refused (before anything changes) or skipped.
        const users = chainUsers();
        const planned: { chain: ChainFolder; steps: MergeStep[]; waiting: string[]; inUse: string[] }[] = [];
        for (const chain of listChains(folder).filter(c => !opts.except?.includes(c.name))) {
            if (!opts.dryRun)
                recoverConsolidation(chain.folder);
            const { steps, waiting } = await policySteps(chain.folder, policy);
            const inUse: string[] = [];
            const free: MergeStep[] = [];
            for (const step of steps) {
                const user = await userOfMerge(chain.folder, step.point, step.from, users);
                if (user && (opts.inUse ?? "refuse") === "refuse")
                    throw inUseRefusal(mergeName(chain.name, step.point, step.from), user);
                if (user)
                    inUse.push(inUseMessage(mergeName(chain.name, step.point, step.from), user));
                else
                    free.push(step);
            }
            planned.push({ chain, steps: free, waiting, inUse });
        }
        const answers: ChainPolicyAnswer[] = [];
        for (const { chain, steps, waiting, inUse } of planned) {
            const answer: ChainPolicyAnswer = {
                chain: chain.name, folder: chain.folder, dryRun: opts.dryRun, dropped: [], waiting, skipped: [...inUse], removed: [], removedBytes: 0, writtenBytes: 0, freed: 0,
            };
            // Newest first: a merge never touches the points an older one merges.
            for (const step of steps) {
                try {
                    opts.signal?.throwIfAborted();
                    const done = await consolidateChain(chain.folder, step.point, {
                        dryRun: opts.dryRun, from: step.from, signal: opts.signal,
                        onProgress: (d, total, disk) => opts.onProgress?.(chain.name, step.point, d, total, disk),
                    });
                    answer.dropped.unshift(...done.dropped);
                    answer.removed.unshift(...done.removed);
                    answer.removedBytes += done.removedBytes;
                    answer.writtenBytes += done.writtenBytes;
                    answer.freed += done.freed;
                } catch (err) {
                    if (!(err instanceof ConsolidationRefused))
                        throw err;
                    answer.skipped.push(err.message);
                }
            }
            if (answer.dropped.length || answer.skipped.length || waiting.length)
                answers.push(answer);
        }
        return answers;
    };
    if (opts.dryRun)
        return run();
    const job = currentJob(opts.uuid);
    if (job?.state === "running")
        throw new Error(`a ${job.kind ?? "backup"} of ${opts.domain} is running: nothing was changed`);
    const lock = await lockJob(opts.uuid, opts.domain);
    try {
        // From the check for files in use to the last removal, no mapping of these chains starts.
        const folders = await lockFoldersForChange(listChains(folder).filter(c => !opts.except?.includes(c.name)).map(c => c.folder), { signal: opts.signal });
        try {
            return await run();
        } finally {
            folders.release();
        }
    } finally {
        lock.release();
    }
}
