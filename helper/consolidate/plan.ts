// SPDX-License-Identifier: GPL-3.0-or-later
// Which files a consolidation merges, writes and removes: the oldest points of one chain, up to and
// including point K, become one full that restores to K (`<dev>.full.virtnbdbackup.K.data`, the name a full
// made inside a chain has). Pure: decisions over the folder's listing, no I/O.
//
// What stays as it was, on purpose: the checkpoint list `<vm>.cpt`, checkpoints/*.xml and libvirt's
// checkpoints. Both tools name the next incremental by the list's length and build it on its last entry;
// this project's chain care counts leftovers and redefines forgotten checkpoints from that list and those
// definitions (each names its parent). Points merged away keep their checkpoint names in the list, without
// files: a restore asking for one is refused ("no backup matches"), every other point restores as before.
import { compareFiles, selectChain, type BackupFile } from "../restore/chain.ts";
import {
    chainFullFileName, checkpointIndex, checkpointName, CHECKSUM_SUFFIX, isBootFileNameFor, isLogFileName, parseDataFileName, parseQcowInfoFileName,
    parseVmConfigFileName, PARTIAL_SUFFIX,
} from "../format/index.ts";

/** One disk's part: the files merged (oldest first) into `output`. */
export interface DiskMerge {
    dev: string;
    members: BackupFile[];
    /** A new full, or an incremental that replaces the last member and continues from `parent`. */
    kind: "full" | "inc";
    /** For an incremental: the checkpoint it continues from (the first member's parent). */
    parent?: string;
    /** Base name of the new file. */
    output: string;
    /** The disk's data files that go (members and every older file), oldest first. */
    removed: string[];
    /** The oldest data file of the disk that stays after the new full (its mtime bounds the new one's). */
    next: string | undefined;
}

export interface ConsolidationPlan {
    /** The restore point the new fulls restore to. */
    point: string;
    disks: DiskMerge[];
    /** Restore points that are gone afterwards (checkpoint names; a diff's unix time), oldest first. */
    dropped: string[];
    /** Every file removed after the switch: data files, their checksums, the dropped points' own files. */
    removedFiles: string[];
}

export class ConsolidationRefused extends Error {
    override readonly name = "ConsolidationRefused";
}

/** The restore point a data file is: its checkpoint (full/inc), a diff's unix time, "copy". */
export function pointOf(f: BackupFile): string {
    return f.level === "full" ? f.meta.checkpointName : f.ident ?? f.meta.checkpointName;
}

/**
 * The plan that merges every point up to `point` (virtnbdbackup.K) of the chain whose data files and
 * checkpoint list are given; `names` are all the chain folder's file names (for the dropped points' own
 * files). Refused: a point that is not an incremental of the list, the chain's newest complete point,
 * unfinished files, a disk without that point.
 */
export function planConsolidation(files: BackupFile[], checkpoints: string[] | null, names: string[], point: string, from?: string): ConsolidationPlan {
    if (from !== undefined)
        return planIncMerge(files, checkpoints, names, from, point);
    const k = checkpointIndex(point);
    if (k === undefined)
        throw new ConsolidationRefused(`${JSON.stringify(point)} is not a checkpoint name (virtnbdbackup.N)`);
    if (checkpoints === null)
        throw new ConsolidationRefused("the chain has no checkpoint list (<vm>.cpt): only a chain of a full and its incrementals can be consolidated");
    const at = checkpoints.indexOf(point);
    if (at < 0)
        throw new ConsolidationRefused(`${point} is not in the chain's checkpoint list (${checkpoints.join(", ") || "empty"})`);
    if (at === checkpoints.length - 1)
        throw new ConsolidationRefused(`${point} is the chain's newest checkpoint: the newest point is never merged (the next incremental builds on it)`);
    const partials = names.filter(n => n.endsWith(PARTIAL_SUFFIX));
    if (partials.length)
        throw new ConsolidationRefused(`the chain holds unfinished files (${partials.join(", ")}): a backup is running or died`);
    const devs = [...new Set(files.map(f => f.dev))].sort();
    if (devs.length === 0)
        throw new ConsolidationRefused("the chain holds no backup files");
    const disks: DiskMerge[] = [];
    const droppedFiles: BackupFile[] = [];
    for (const dev of devs) {
        let members: BackupFile[];
        try {
            members = selectChain(dev, files, checkpoints, { until: point }).members;
        } catch (err) {
            throw new ConsolidationRefused(`disk ${dev} cannot be restored to ${point}: ${(err as Error).message}`);
        }
        const target = members[members.length - 1];
        if (target.level === "diff" || target.meta.checkpointName !== point)
            throw new ConsolidationRefused(`disk ${dev} has no full or incremental backup of ${point}`);
        if (members[0].level === "copy")
            throw new ConsolidationRefused(`disk ${dev}: a copy backup has no chain to consolidate`);
        const ordered = files.filter(f => f.dev === dev).sort(compareFiles);
        const older = ordered.filter(f => compareFiles(f, target) <= 0);
        const next = ordered.find(f => compareFiles(f, target) > 0);
        if (members.length === 1 && older.length === 1)
            continue;  // this disk's point is a full already
        disks.push({ dev, members, kind: "full", output: chainFullFileName(dev, point), removed: older.map(f => f.name), next: next?.name });
        droppedFiles.push(...older.filter(f => f !== target));
    }
    if (disks.length === 0)
        throw new ConsolidationRefused(`nothing to consolidate: ${point} is the chain's oldest point`);
    return finishPlan(point, disks, droppedFiles, files, names);
}

/** What the disks' merges drop: the points no file is left of, and every file that goes, in removal order. */
function finishPlan(point: string, disks: DiskMerge[], droppedFiles: BackupFile[], files: BackupFile[], names: string[]): ConsolidationPlan {
    const dropped = [...new Set(droppedFiles.sort(compareFiles).map(pointOf))];
    const kept = new Set(files.filter(f => !droppedFiles.includes(f)).map(pointOf));
    const gone = dropped.filter(p => !kept.has(p));
    // Each disk's oldest file first: once the old base is gone the other tool refuses the old chain instead of
    // applying part of it (a crash between these removals is rolled forward later).
    const removedData: string[] = [];
    for (let i = 0; i < Math.max(...disks.map(d => d.removed.length)); i++)
        removedData.push(...disks.flatMap(d => d.removed[i] ?? []));
    const removedFiles = [
        ...removedData.flatMap(n => [n, n + CHECKSUM_SUFFIX].filter(x => x === n || names.includes(x))),
        ...names.filter(n => isPointFile(n, gone)),
    ];
    return { point, disks, dropped: gone, removedFiles };
}

/**
 * A file a backup run writes for one of `points` beside its data: its saved config, a disk's qemu-img
 * info, a copy of a boot file (`<basename>.<point>`). Logs and checkpoint definitions are not.
 */
export function isPointFile(name: string, points: string[]): boolean {
    if (parseDataFileName(name) !== null || name.endsWith(CHECKSUM_SUFFIX) || name.endsWith(PARTIAL_SUFFIX) || isLogFileName(name))
        return false;
    const ident = parseVmConfigFileName(name) ?? parseQcowInfoFileName(name)?.ident;
    return points.some(p => ident === p || isBootFileNameFor(name, p));
}

/** The chain's restore points, oldest first (every disk's files together). */
export function chainPoints(files: BackupFile[]): string[] {
    return [...new Set([...files].sort(compareFiles).map(pointOf))];
}

/**
 * The point to consolidate up to so that the last `keep` points remain (at least `keep`: a diff cannot be
 * the new full's point, the next checkpoint is); undefined when nothing would be dropped.
 */
export function pointForKeepLast(files: BackupFile[], checkpoints: string[] | null, keep: number): string | undefined {
    if (!Number.isSafeInteger(keep) || keep < 1)
        throw new ConsolidationRefused(`keep the last ${keep} points: give a whole number from 1`);
    if (checkpoints === null)
        return undefined;
    const points = chainPoints(files);
    for (let i = Math.max(0, points.length - keep); i < points.length; i++) {
        const p = points[i];
        if (checkpointIndex(p) === undefined)
            continue;
        // The oldest point, or the newest checkpoint (the next incremental builds on it): nothing to merge.
        return i === 0 || p === checkpoints[checkpoints.length - 1] ? undefined : p;
    }
    return undefined;
}

/**
 * The plan that merges the incrementals `from`..`point` (virtnbdbackup.A..C) of every disk into one
 * incremental of C that continues from A−1, dropping points A..C−1 from the middle of the chain. Refused:
 * C the newest checkpoint, a gap, a differential that builds on one of the dropped points.
 */
function planIncMerge(files: BackupFile[], checkpoints: string[] | null, names: string[], from: string, point: string): ConsolidationPlan {
    const a = checkpointIndex(from);
    const c = checkpointIndex(point);
    if (a === undefined || c === undefined)
        throw new ConsolidationRefused(`${JSON.stringify(a === undefined ? from : point)} is not a checkpoint name (virtnbdbackup.N)`);
    if (checkpoints === null)
        throw new ConsolidationRefused("the chain has no checkpoint list (<vm>.cpt): only a chain of a full and its incrementals can be consolidated");
    if (a < 1 || c <= a)
        throw new ConsolidationRefused(`merging ${from} into ${point}: the first must be an incremental before the second`);
    if (!checkpoints.includes(point) || !checkpoints.includes(from))
        throw new ConsolidationRefused(`${checkpoints.includes(point) ? from : point} is not in the chain's checkpoint list`);
    if (checkpoints.indexOf(point) === checkpoints.length - 1)
        throw new ConsolidationRefused(`${point} is the chain's newest checkpoint: the newest point is never merged (the next incremental builds on it)`);
    const partials = names.filter(n => n.endsWith(PARTIAL_SUFFIX));
    if (partials.length)
        throw new ConsolidationRefused(`the chain holds unfinished files (${partials.join(", ")}): a backup is running or died`);
    const parent = checkpointName(a - 1);
    const devs = [...new Set(files.map(f => f.dev))].sort();
    const disks: DiskMerge[] = [];
    const droppedFiles: BackupFile[] = [];
    for (const dev of devs) {
        const own = files.filter(f => f.dev === dev).sort(compareFiles);
        const diff = own.find(f => f.level === "diff" && (checkpointIndex(f.meta.parentCheckpoint) ?? -1) >= a && (checkpointIndex(f.meta.parentCheckpoint) ?? -1) < c);
        if (diff)
            throw new ConsolidationRefused(`${diff.name} builds on ${diff.meta.parentCheckpoint}, which merging ${from}..${point} would drop`);
        const members: BackupFile[] = [];
        for (let i = a; i <= c; i++) {
            const f = own.find(x => x.level === "inc" && x.meta.checkpointName === checkpointName(i));
            const before = members.at(-1)?.meta.checkpointName ?? parent;
            if (!f || f.meta.parentCheckpoint !== before)
                throw new ConsolidationRefused(`disk ${dev} has no incremental backup of virtnbdbackup.${i} continuing from ${before}`);
            members.push(f);
        }
        const target = members[members.length - 1];
        const next = own.find(f => compareFiles(f, target) > 0);
        disks.push({ dev, members, kind: "inc", parent, output: target.name, removed: members.slice(0, -1).map(f => f.name), next: next?.name });
        droppedFiles.push(...members.slice(0, -1));
    }
    if (disks.length === 0)
        throw new ConsolidationRefused("the chain holds no backup files");
    return finishPlan(point, disks, droppedFiles, files, names);
}
