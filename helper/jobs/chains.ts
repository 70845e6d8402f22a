// SPDX-License-Identifier: GPL-3.0-or-later
// The chains of a VM's backup folder on disk (layout: helper/format/chain-folders.ts), and which chain
// folder a job of the page writes into.
import fs from "node:fs";
import path from "node:path";
import { chainNumber, nextChainName, sortChains } from "../format/chain-folders.ts";
import { parseCheckpointListFileName, parseDataFileName, withoutPartialSuffix } from "../format/index.ts";

export interface ChainFolder {
    /** "" for the folder itself (the first chain), else `chain-<n>`. */
    name: string;
    /** Absolute folder of the chain. */
    folder: string;
}

/** Whether a folder holds backup data files (finished or not) or a checkpoint list. */
export function holdsBackup(dir: string): boolean {
    let names: string[];
    try {
        names = fs.readdirSync(dir);
    } catch {
        return false;
    }
    return names.some(n => parseDataFileName(withoutPartialSuffix(n)) !== null || parseCheckpointListFileName(n) !== null);
}

/** Chain subfolder names in the VM folder (real folders, not symlinks). */
function chainSubfolders(vmFolder: string): string[] {
    let entries: fs.Dirent[];
    try {
        entries = fs.readdirSync(vmFolder, { withFileTypes: true });
    } catch {
        return [];
    }
    return entries.filter(e => e.isDirectory() && chainNumber(e.name) !== undefined).map(e => e.name);
}

/**
 * The VM folder's chains, oldest first: the folder itself, then chain-<n>, each when it holds a backup (a
 * chain folder a pruning left because a file of the user's is in it is no chain).
 */
export function listChains(vmFolder: string): ChainFolder[] {
    const names = [...chainSubfolders(vmFolder), ""];
    return sortChains(names).map(name => ({ name, folder: name ? path.join(vmFolder, name) : vmFolder })).filter(c => holdsBackup(c.folder));
}

/** The newest chain (where automatic, inc and diff backups go); the folder itself when there is none. */
export function newestChain(vmFolder: string): ChainFolder {
    return listChains(vmFolder).at(-1) ?? { name: "", folder: vmFolder };
}

/**
 * Where a new chain starts: the folder itself when no chain holds a backup yet, else chain-<n> numbered
 * after every chain subfolder there is (never into a left one).
 */
export function newChainFolder(vmFolder: string): ChainFolder {
    if (listChains(vmFolder).length === 0)
        return { name: "", folder: vmFolder };
    const name = nextChainName(chainSubfolders(vmFolder));
    return { name, folder: path.join(vmFolder, name) };
}

/** The folder of a chain by name ("" or undefined: the folder itself); undefined when there is no such chain. */
export function chainByName(vmFolder: string, name: string | undefined): ChainFolder | undefined {
    return listChains(vmFolder).find(c => c.name === (name ?? ""));
}

/** The folder of a chain of the VM's backup folder; a clear error when it has no such chain. */
export function chainFolder(vmFolder: string, chain: string | undefined): string {
    const found = chainByName(vmFolder, chain);
    if (!found)
        throw new Error(`${vmFolder} holds no chain ${chain ? chain : "in the folder itself"}`);
    return found.folder;
}
