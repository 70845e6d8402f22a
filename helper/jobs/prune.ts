// SPDX-License-Identifier: GPL-3.0-or-later
// Retention: keep the last N chains of a VM's backup folder (helper/format/chain-folders.ts) and remove the
// files of the older ones. Only files a backup run writes are removed (data, checksums, checkpoint list and
// definitions, saved configs, boot files, logs); anything else a user put there stays, and so does a chain
// subfolder that still holds something. The newest chain is never removed, nothing is removed while a
// job of the VM runs (removal holds the VM's job lock, helper/backup/lock.ts), and no chain a mapping, browse
// session or VM started from backup reads (chain-users.ts): refused, or skipped by the schedule. The chain
// folders' lock (backup/folder-lock.ts) keeps a mapping from starting between that check and the removal.
import fs from "node:fs";
import path from "node:path";
import { lockJob } from "../backup/lock.ts";
import { lockFoldersForChange } from "../backup/folder-lock.ts";
import { JOURNAL_NAME } from "../backup/journal.ts";
import { CONSOLIDATE_JOURNAL, removeStaging } from "../consolidate/journal.ts";
import {
    checkpointName, CHECKSUM_SUFFIX, isBootFileNameFor, isCheckpointName, isLogFileName, parseCheckpointListFileName, parseDataFileName, parseQcowInfoFileName,
    parseVmConfigFileName, withoutPartialSuffix,
} from "../format/index.ts";
import { resolveTrustedFolder } from "../fs/trusted-folder.ts";
import { listChains, type ChainFolder } from "./chains.ts";
import { currentJob } from "./status.ts";
import { chainUsers, inUseMessage, inUseRefusal, userOfFolder, type InUsePolicy } from "./chain-users.ts";

export interface PrunedChain {
    /** "" for the VM folder itself, else chain-N. */
    name: string;
    folder: string;
    /** Files removed (or to remove), relative to the chain folder. */
    files: string[];
    /** Their bytes. */
    bytes: number;
}

export interface PruneAnswer {
    folder: string;
    /** The policy applied: keep the last N chains (0: one chain was named, delete-chain). */
    keep: number;
    /** Nothing was removed: this is what would be. */
    dryRun: boolean;
    /** Chains removed (or to remove), oldest first. */
    removed: PrunedChain[];
    /** Chains kept, oldest first. */
    kept: string[];
    /** Bytes freed (or to free). */
    freed: number;
    /** Chains the policy would remove that stay because something reads them (skip policy only). */
    skipped?: { chain: string; reason: string }[];
}

/** How a removal goes: whose job lock it holds, whether it only says what it would do, chains in use. */
export interface PruneOptions {
    uuid: string;
    domain: string;
    dryRun: boolean;
    /** Default "refuse". */
    inUse?: InUsePolicy;
    /** Ends a wait for mappings being set up (nothing removed yet). */
    signal?: AbortSignal;
}

/** The chains a keep-last-N policy removes: all but the last N, and never the newest. Pure. */
export function chainsToRemove<T>(chains: T[], keep: number): T[] {
    return chains.slice(0, Math.max(0, chains.length - Math.max(1, keep)));
}

/** The idents a chain's files are named by: checkpoint names, "copy", a diff's unix time. Pure. */
export function chainIdents(names: string[]): Set<string> {
    const idents = new Set<string>();
    for (const n of names) {
        const parsed = parseDataFileName(n);
        if (parsed)
            idents.add(parsed.ident ?? checkpointName(0));  // the chain's first full
    }
    return idents;
}

/** Whether a file of a chain folder is one a backup run writes (`idents`: chainIdents of the folder). Pure. */
export function isBackupFile(name: string, idents: Set<string>): boolean {
    let base = withoutPartialSuffix(name);
    base = base.endsWith(CHECKSUM_SUFFIX) ? base.slice(0, -CHECKSUM_SUFFIX.length) : base;
    if (parseDataFileName(base) !== null || name === JOURNAL_NAME || name === CONSOLIDATE_JOURNAL)
        return true;
    if (parseCheckpointListFileName(name) !== null || isLogFileName(name))
        return true;
    const ident = parseVmConfigFileName(name) ?? parseQcowInfoFileName(name)?.ident;
    if (ident !== undefined && (idents.has(ident) || isCheckpointName(ident)))
        return true;
    return [...idents].some(i => isBootFileNameFor(name, i));
}

/** The files of one chain folder a removal takes (regular files only), relative to the folder. */
function chainFiles(chain: ChainFolder): PrunedChain {
    const entries = fs.readdirSync(chain.folder, { withFileTypes: true });
    const idents = chainIdents(entries.filter(e => e.isFile()).map(e => e.name));
    const files: string[] = [];
    let bytes = 0;
    const take = (rel: string) => {
        files.push(rel);
        bytes += fs.lstatSync(path.join(chain.folder, rel)).size;
    };
    for (const e of entries) {
        if (e.isFile() && isBackupFile(e.name, idents))
            take(e.name);
        else if (e.isDirectory() && e.name === "checkpoints") {
            for (const x of fs.readdirSync(path.join(chain.folder, e.name), { withFileTypes: true })) {
                if (x.isFile() && /^[^/]+\.xml$/.test(x.name))
                    take(`checkpoints/${x.name}`);
            }
        }
    }
    return { name: chain.name, folder: chain.folder, files, bytes };
}

/** Removes a chain's files, then its checkpoints/ and chain subfolder when nothing else is left in them. */
function removeChain(chain: PrunedChain): void {
    for (const rel of chain.files)
        fs.rmSync(path.join(chain.folder, rel), { force: true });
    removeStaging(chain.folder);  // a dead consolidation's new files (the lock is held: none runs)
    const tryRmdir = (dir: string) => {
        try {
            fs.rmdirSync(dir);
        } catch {
            // not empty: a file of the user's stays, and so does its folder
        }
    };
    if (chain.files.some(f => f.startsWith("checkpoints/")))
        tryRmdir(path.join(chain.folder, "checkpoints"));
    if (chain.name !== "")
        tryRmdir(chain.folder);
}

/** What to remove: the chains `choose` picks of the folder's (oldest first), never the newest. */
type Choose = (chains: ChainFolder[]) => ChainFolder[];

function plan(vmFolder: string, choose: Choose, inUse: InUsePolicy): Pick<PruneAnswer, "removed" | "kept" | "skipped"> {
    const chains = listChains(vmFolder);
    const chosen = choose(chains).filter(c => c !== chains.at(-1));
    const users = chosen.length ? chainUsers() : [];
    const skipped: { chain: string; reason: string }[] = [];
    const remove = chosen.filter(c => {
        const user = userOfFolder(c.folder, users);
        if (!user)
            return true;
        const what = c.name || "the chain in the folder itself";
        if (inUse === "refuse")
            throw inUseRefusal(what, user);
        skipped.push({ chain: c.name, reason: inUseMessage(what, user) });
        return false;
    });
    return {
        removed: remove.map(chainFiles),
        kept: chains.filter(c => !remove.includes(c)).map(c => c.name),
        ...(skipped.length ? { skipped } : {}),
    };
}

/** Keep the last `keep` chains. */
export function keepLast(keep: number): Choose {
    return chains => chainsToRemove(chains, keep);
}

/**
 * One chain by name; refused when it is not one of the folder's or is the newest (where the next backup
 * goes: start a new chain first).
 */
export function oneChain(name: string): Choose {
    return chains => {
        const found = chains.find(c => c.name === name);
        if (!found)
            throw new Error(`the backup folder holds no chain ${name || "in the folder itself"}`);
        if (found === chains.at(-1))
            throw new Error(`${name || "the chain in the folder itself"} is the newest chain, where the next backup goes: it is not removed (start a new chain first)`);
        return [found];
    };
}

/**
 * Applies keep-last-`keep` to the VM folder; with `dryRun`, only says what it would remove. `uuid` and
 * `domain` name the VM whose job lock removal holds. `keep` is checked already (retention-rules.ts).
 */
export function pruneChains(vmFolder: string, keep: number, opts: PruneOptions): Promise<PruneAnswer> {
    return removeChains(vmFolder, keepLast(keep), keep, opts);
}

/** Removes the chains `choose` picks (dry run: only says what it would); `keep` is reported as the policy. */
export async function removeChains(vmFolder: string, choose: Choose, keep: number, opts: PruneOptions): Promise<PruneAnswer> {
    const folder = resolveTrustedFolder(vmFolder, "a backup folder").folder;
    if (!fs.existsSync(folder))
        return { folder, keep, dryRun: opts.dryRun, removed: [], kept: [], freed: 0 };
    if (opts.dryRun) {
        const p = plan(folder, choose, opts.inUse ?? "refuse");
        return { folder, keep, dryRun: true, ...p, freed: p.removed.reduce((s, c) => s + c.bytes, 0) };
    }
    // A job the page started whose engine has not taken the lock yet.
    const job = currentJob(opts.uuid);
    if (job?.state === "running")
        throw new Error(`a ${job.kind ?? "backup"} of ${opts.domain} is running: nothing was removed`);
    const lock = await lockJob(opts.uuid, opts.domain);
    try {
        // From the check for files in use to the last removal, no mapping of these chains starts.
        const folders = await lockFoldersForChange(listChains(folder).map(c => c.folder), { signal: opts.signal });
        try {
            const p = plan(folder, choose, opts.inUse ?? "refuse");
            for (const chain of p.removed)
                removeChain(chain);
            return { folder, keep, dryRun: false, ...p, freed: p.removed.reduce((s, c) => s + c.bytes, 0) };
        } finally {
            folders.release();
        }
    } finally {
        lock.release();
    }
}
