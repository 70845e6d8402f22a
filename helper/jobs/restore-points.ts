// SPDX-License-Identifier: GPL-3.0-or-later
// The restore points of a backup folder for the page: each checkpoint, differential or copy with its
// disks, sizes and whether it is complete. Reading uses the restore engine's folder scan; grouping is
// pure (groupPoints) and unit-tested.
import fs from "node:fs";
import path from "node:path";
import type { BackupFile } from "../restore/chain.ts";
import { readBackupFolder } from "../restore/folder.ts";
import { identOf } from "../restore/plan.ts";
import { checkpointIndex, isCompressed, parseDataFileName, PARTIAL_SUFFIX } from "../format/index.ts";
import { chainNumber } from "../format/chain-folders.ts";
import { listChains } from "./chains.ts";
import type { ChainSummary, RestorePoint, RestorePointList } from "../protocol/job-types.ts";

export interface FolderFacts {
    files: BackupFile[];
    /** Base name → bytes on disk. */
    sizes: Map<string, number>;
    /** `*.partial` base names. */
    partials: string[];
    /** Data files whose meta frame could not be read. */
    unreadable: { name: string; dev: string }[];
}

/** Key of the point a data file name belongs to, from its name alone (for partial/unreadable files). */
function pointOfName(name: string): string | null {
    const parsed = parseDataFileName(name);
    if (!parsed)
        return null;
    return parsed.ident ?? "virtnbdbackup.0";
}

function order(a: RestorePoint, b: RestorePoint): number {
    const ta = Date.parse(a.date), tb = Date.parse(b.date);
    if (ta !== tb && !Number.isNaN(ta) && !Number.isNaN(tb))
        return ta - tb;
    return (checkpointIndex(a.name) ?? Number.MAX_SAFE_INTEGER) - (checkpointIndex(b.name) ?? Number.MAX_SAFE_INTEGER);
}

/** Groups data files into restore points, oldest first. */
export function groupPoints(facts: FolderFacts, chain = ""): RestorePoint[] {
    const byName = new Map<string, BackupFile[]>();
    for (const f of facts.files) {
        const key = identOf(f);
        byName.set(key, [...(byName.get(key) ?? []), f]);
    }
    const broken = new Set<string>();
    for (const p of facts.partials) {
        const key = pointOfName(p.slice(0, -PARTIAL_SUFFIX.length));
        if (key)
            broken.add(key);
    }
    for (const u of facts.unreadable) {
        const key = pointOfName(u.name);
        if (key)
            broken.add(key);
    }
    const points: RestorePoint[] = [...byName.entries()].map(([name, files]) => {
        files.sort((a, b) => a.dev.localeCompare(b.dev));
        return {
            name,
            level: files[0].level,
            date: files[0].meta.date,
            disks: files.map(f => ({
                dev: f.dev, file: f.name, dataSize: f.meta.dataSize, fileSize: facts.sizes.get(f.name) ?? 0, compressed: isCompressed(f.meta),
            })),
            complete: !broken.has(name),
            chain,
        };
    }).sort(order);
    // An inc/diff needs every disk of the full it builds on.
    let baseDisks: string[] = [];
    for (const p of points) {
        const devs = p.disks.map(d => d.dev);
        if (p.level === "full" || p.level === "copy")
            baseDisks = devs;
        else if (baseDisks.some(d => !devs.includes(d)))
            p.complete = false;
    }
    return points;
}

/** Bytes of the files in a folder and below; `skipChains`: not in its chain subfolders (counted apart). */
function folderBytes(dir: string, skipChains = false): number {
    let total = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory() && skipChains && chainNumber(entry.name) !== undefined)
            continue;
        if (entry.isDirectory())
            total += folderBytes(full);
        else if (entry.isFile())
            total += fs.statSync(full).size;
    }
    return total;
}

/** The restore points of one chain folder (`chain`: its name in the VM folder, "" for the folder itself). */
export async function listRestorePoints(folder: string, vmName: string, chain = ""): Promise<RestorePointList> {
    if (!fs.existsSync(folder))
        return { folder, exists: false, empty: true, totalSize: 0, chainLength: 0, points: [], problems: [], chains: [] };
    const scanned = await readBackupFolder(folder);
    const sizes = new Map<string, number>();
    for (const f of scanned.files)
        sizes.set(f.name, fs.statSync(path.join(folder, f.name)).size);
    const points = groupPoints({ files: scanned.files, sizes, partials: scanned.partials, unreadable: scanned.unreadable }, chain);
    const cpt = scanned.checkpointLists.find(l => l.vm === vmName) ?? scanned.checkpointLists[0];
    return {
        folder,
        exists: true,
        empty: scanned.files.length === 0 && scanned.unreadable.length === 0,
        totalSize: folderBytes(folder, chain === ""),
        chainLength: cpt?.checkpoints.length ?? 0,
        points,
        problems: [
            ...scanned.unreadable.map(u => `${u.name}: ${u.error}`),
            ...scanned.partials.map(p => `${p}: unfinished backup file`),
            ...scanned.problems,
        ],
        chains: [],
    };
}

/**
 * Every chain of a VM folder (helper/format/chain-folders.ts), oldest first: all points (each naming its
 * chain), problems prefixed with the chain's folder, and a summary per chain. chainLength is the newest
 * chain's (where the next backup goes).
 */
export async function listVmRestorePoints(vmFolder: string, vmName: string): Promise<RestorePointList> {
    if (!fs.existsSync(vmFolder))
        return listRestorePoints(vmFolder, vmName);
    const lists = await Promise.all(listChains(vmFolder).map(async c => ({ chain: c, list: await listRestorePoints(c.folder, vmName, c.name) })));
    const chains: ChainSummary[] = lists.map(({ chain, list }) => ({
        name: chain.name,
        folder: chain.folder,
        totalSize: list.totalSize,
        chainLength: list.chainLength,
        points: list.points.length,
        firstDate: list.points[0]?.date ?? null,
        lastDate: list.points.at(-1)?.date ?? null,
    }));
    return {
        folder: vmFolder,
        exists: true,
        empty: lists.every(l => l.list.empty),
        totalSize: folderBytes(vmFolder),
        chainLength: lists.at(-1)?.list.chainLength ?? 0,
        points: lists.flatMap(l => l.list.points),
        problems: lists.flatMap(({ chain, list }) => list.problems.map(p => chain.name ? `${chain.name}/${p}` : p)),
        chains,
    };
}
