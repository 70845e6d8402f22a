// SPDX-License-Identifier: GPL-3.0-or-later
// Consolidation (a synthetic full): the oldest points of one chain, up to point K, are merged from the
// backup files alone (no VM, no libvirt) into one full per disk that restores to K, written with the copy
// pipeline of backup and restore (merged stream files -> requests in flight -> StreamSink), verified, then
// switched in (journal.ts) under the VM's job lock. What is merged and removed: plan.ts.
import fs from "node:fs";
import fsp from "node:fs/promises";
import { constants, fadvise } from "fileio-node";
import path from "node:path";
import { copyExtents } from "../engine/copy.ts";
import { MergedSource } from "../engine/merged-source.ts";
import { ReadBackSum } from "../engine/read-back.ts";
import { mergedExtents, mergeLayers, ZERO_LAYER, type Piece } from "../engine/merge-map.ts";
import { StreamSink } from "../engine/stream-sink.ts";
import { StreamSource } from "../engine/stream-source.ts";
import { dataBytes } from "../engine/extents.ts";
import type { StreamMeta } from "../format/index.ts";
import { readBackupFolder } from "../restore/folder.ts";
import { checksumProblem, compareChecksum } from "../restore/checksum.ts";
import { commitSwitch, makeStaging, recoverConsolidation, removeStaging, rollForward, type SwitchJournal, type SwitchStep } from "./journal.ts";
import { planConsolidation, type ConsolidationPlan, type DiskMerge } from "./plan.ts";
import { pidNsField } from "../tools/proc.ts";

const MiB = 1024 * 1024;

export interface ConsolidateOptions {
    /** Only say what would be merged and removed. */
    dryRun: boolean;
    signal?: AbortSignal;
    /** Called after each new file is written and verified (for a test that kills the run at that moment). */
    onStep?: SwitchStep;
    /** Bytes of the new file being written, done and total; `disk`: which of the merge's new files it is. */
    onProgress?: (done: number, total: number, disk: MergeDisk) => void;
}

/** The new file a merge is writing: `index` of `count` (one per disk), its name. */
export interface MergeDisk {
    index: number;
    count: number;
    file: string;
}

export interface ConsolidateAnswer {
    folder: string;
    point: string;
    dryRun: boolean;
    /** Restore points that are (or would be) gone, oldest first. */
    dropped: string[];
    /** Files removed (or to remove), with their bytes. */
    removed: string[];
    removedBytes: number;
    /** The new fulls (base names) and their bytes (an estimate in a dry run). */
    written: string[];
    writtenBytes: number;
    /** removedBytes - writtenBytes. */
    freed: number;
}

/** The frames of the new file: a full covers the disk, an incremental holds data frames only. */
function outputExtents(disk: DiskMerge, pieces: Piece[], size: number) {
    return disk.kind === "full" ? mergedExtents(pieces, size) : mergedExtents(pieces);
}

/** The meta frame of the new file: the point's own (date, VM, checkpoint), as a full or as an inc from `parent`. */
function mergedMeta(disk: DiskMerge, pieces: Piece[], size: number): StreamMeta {
    const target = disk.members[disk.members.length - 1].meta;
    return {
        ...target,
        virtualSize: size,
        dataSize: dataBytes(outputExtents(disk, pieces, size)),
        parentCheckpoint: disk.kind === "full" ? "" : disk.parent!,
        incremental: disk.kind === "inc",
        streamVersion: 2,
    };
}

/** The bytes a new full will take, estimated from each piece's file's stored/uncompressed ratio. */
function estimateBytes(sources: StreamSource[], pieces: Piece[]): number {
    const ratio = sources.map(s => s.meta.dataSize > 0 ? s.fileSize / s.meta.dataSize : 1);
    let bytes = 0;
    for (const p of pieces)
        bytes += p.layer === ZERO_LAYER ? 40 : p.length * Math.min(1, ratio[p.layer]);
    return Math.round(bytes);
}

/** Writes one disk's new file into the staging folder and checks it against its checksum. */
async function writeFull(chainDir: string, staging: string, disk: DiskMerge,
                         options: Omit<ConsolidateOptions, "onProgress"> & { onProgress?: (done: number, total: number) => void }): Promise<number> {
    const sources = await StreamSource.openAll(disk.members.map(m => path.join(chainDir, m.name)));
    const pieces = mergeLayers(sources.map(s => s.extents));
    const source = new MergedSource(sources, pieces);
    let readBack: ReadBackSum | undefined;
    try {
        const size = sources[0].size;
        const extents = outputExtents(disk, pieces, size);
        const file = path.join(staging, disk.output);
        // Its pages stay cached until the read-back has checked them, then go. The read-back follows the
        // writer (read-back.ts): the check costs no pass of its own after the copy.
        const sink = await StreamSink.create(file, mergedMeta(disk, pieces, size), {
            keepCached: true,
            onWritten: (position, end) => readBack?.written(position, end),
        });
        try {
            readBack = await ReadBackSum.open(sink.partialFile);
        } catch (err) {
            await sink.abort();
            throw err;
        }
        const largest = Math.max(0, ...sources.map(s => s.largestFixedChunk));
        await copyExtents(extents, source, sink, {
            maxChunk: MiB,
            maxInFlight: 64,
            maxBytesInFlight: Math.max(16 * MiB, 2 * largest),
            signal: options.signal,
            onProgress: p => options.onProgress?.(p.done, p.total),
        });
        options.onStep?.("written", disk.output);
        // What is in the file is what was summed while writing, and it reads back as a stream.
        const back = readBack;
        const checked = await compareChecksum(file, async () => (await back.finish(options.signal)).sum);
        if (checked.status !== "ok")
            throw new Error(checksumProblem(file, checked) ?? `${file}: the checksum file is missing`);
        await (await StreamSource.open(file)).close();
        await dropCached(file);
        options.onStep?.("verified", disk.output);
        return fs.statSync(file).size;
    } finally {
        await readBack?.close().catch(() => {});
        await source.close().catch(() => {});
    }
}

/** Drops a file's pages from the page cache (a hint: a big consolidation should not push out the host's). */
async function dropCached(file: string): Promise<void> {
    const fh = await fsp.open(file, "r");
    try {
        await fadvise(fh.fd, 0, 0, constants.POSIX_FADV_DONTNEED);
    } finally {
        await fh.close();
    }
}

/** The mtime a new file gets: after the point's own file, before the next file of the disk (the other tool's restore order). */
function mtimeFor(chainDir: string, disk: DiskMerge): number {
    const target = fs.statSync(path.join(chainDir, disk.members[disk.members.length - 1].name)).mtimeMs / 1000;
    if (!disk.next)
        return target + 0.001;
    const next = fs.statSync(path.join(chainDir, disk.next)).mtimeMs / 1000;
    return next > target ? target + (next - target) / 2 : target;
}

function sizeOf(chainDir: string, names: string[]): number {
    let sum = 0;
    for (const n of names) {
        try {
            sum += fs.statSync(path.join(chainDir, n)).size;
        } catch { /* gone meanwhile */ }
    }
    return sum;
}

/** Reads the chain folder and plans the merge up to `point`. */
export async function planChain(chainDir: string, point: string, from?: string): Promise<ConsolidationPlan> {
    const folder = await readBackupFolder(chainDir);
    const checkpoints = folder.checkpointLists.length === 1 ? folder.checkpointLists[0].checkpoints : null;
    if (folder.checkpointLists.length > 1)
        throw new Error(`the chain holds ${folder.checkpointLists.length} checkpoint lists (${folder.checkpointLists.map(c => c.name).join(", ")}): which one is the chain's is not known`);
    if (folder.unreadable.length)
        throw new Error(`unreadable backup files: ${folder.unreadable.map(u => `${u.name} (${u.error})`).join("; ")}`);
    return planConsolidation(folder.files, checkpoints, fs.readdirSync(chainDir), point, from);
}

/**
 * Merges every point of the chain in `chainDir` up to `point` into one full per disk. The caller holds the
 * VM's job lock and has resolved `chainDir` as a trusted folder.
 */
export async function consolidateChain(chainDir: string, point: string, options: ConsolidateOptions & { from?: string }): Promise<ConsolidateAnswer> {
    if (!options.dryRun)
        recoverConsolidation(chainDir);
    const plan = await planChain(chainDir, point, options.from);
    // An incremental merge replaces its last member: the old file's bytes go too.
    const removedBytes = sizeOf(chainDir, [...plan.removedFiles, ...plan.disks.filter(d => d.kind === "inc").map(d => d.output)]);
    const answer = (writtenBytes: number): ConsolidateAnswer => ({
        folder: chainDir, point, dryRun: options.dryRun, dropped: plan.dropped, removed: plan.removedFiles, removedBytes,
        written: plan.disks.map(d => d.output), writtenBytes, freed: removedBytes - writtenBytes,
    });
    if (options.dryRun) {
        let estimate = 0;
        for (const disk of plan.disks) {
            const sources = await StreamSource.openAll(disk.members.map(m => path.join(chainDir, m.name)));
            try {
                estimate += estimateBytes(sources, mergeLayers(sources.map(s => s.extents)).filter(p => disk.kind === "full" || p.layer !== ZERO_LAYER));
            } finally {
                await Promise.all(sources.map(s => s.close()));
            }
        }
        return answer(estimate);
    }
    const staging = makeStaging(chainDir);
    let written = 0;
    const journal: SwitchJournal = { pid: process.pid, ...pidNsField(), moves: [], removes: plan.removedFiles };
    try {
        for (const [index, disk] of plan.disks.entries()) {
            const where: MergeDisk = { index, count: plan.disks.length, file: disk.output };
            written += await writeFull(chainDir, staging, disk, { ...options, onProgress: options.onProgress && ((d, t) => options.onProgress!(d, t, where)) });
            journal.moves.push({ name: disk.output, mtime: mtimeFor(chainDir, disk) });
        }
        options.signal?.throwIfAborted();
    } catch (err) {
        removeStaging(chainDir);
        throw err;
    }
    commitSwitch(chainDir, journal);
    options.onStep?.("committed");
    rollForward(chainDir, journal, options.onStep);
    return answer(written);
}
