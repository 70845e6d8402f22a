// SPDX-License-Identifier: GPL-3.0-or-later
// Rebuilds one disk at the floor, with the copy pipeline that backups use (engine/copy.ts): the chain's
// files merged into the point (engine/merged-source.ts: each range read from the newest file holding it),
// copied into a new image (engine/image-sink.ts: raw, or qcow2 planned from the point's map with the
// source disk's options, image/qcow2-layout.ts), while every member's content is checked beside it
// (checksums; lz4 frames by the copy's decode, the rest only where no checksum vouches for them: the refusals
// and messages of verify). Only then, once the caller publishes
// it, the image gets its final name. What it makes on the way (the partial image, the open files) goes on
// the run's undo stack (helper/run/undo-stack.ts): a failure or cancellation unwinds it with the rest of
// the run, and a process that must exit at once takes it back synchronously.
import fs from "node:fs";
import path from "node:path";
import { copyExtents } from "../engine/copy.ts";
import { dataBytes } from "../engine/extents.ts";
import { ImageSink, rawPlacement } from "../engine/image-sink.ts";
import { mergedExtents, mergeLayers } from "../engine/merge-map.ts";
import { MergedSource } from "../engine/merged-source.ts";
import { refuseExisting } from "../engine/output-file.ts";
import { StreamSource } from "../engine/stream-source.ts";
import { Qcow2Layout } from "../image/qcow2-layout.ts";
import type { Qcow2Params } from "../image/qcow2-params.ts";
import { UndoStack } from "../run/undo-stack.ts";
import type { BackupFile } from "./chain.ts";
import { checkContent, DecodeQueue, type ContentCheck } from "./check-content.ts";

const MiB = 1024 * 1024;

export interface DiskJob {
    dev: string;
    /** Backup folder. */
    dir: string;
    /** Chain members in order; the first is a full or copy. */
    members: BackupFile[];
    /** Final path of the restored image. */
    output: string;
    /** The source disk's format: qcow2 or raw. */
    format: string;
    size: number;
    /** The qcow2 image's options (the source disk's). */
    qcow2: Qcow2Params;
}

export interface DiskProgress {
    dev: string;
    /** Data bytes written so far, over all files of the chain. */
    done: number;
    total: number;
    /** The file being applied. */
    file: string;
}

export interface RestoreTuning {
    /** Largest read/write request; default 1 MiB (raw images, -r: 4 MiB). */
    maxChunk?: number;
    /** Requests in flight; default 64 (raw images, -r: 16). */
    maxInFlight?: number;
}

export interface DiskResult {
    dev: string;
    /** Final path; the image lies at `partial` until publish(). */
    file: string;
    partial: string;
    /** Data bytes written. */
    bytes: number;
    files: string[];
    checksums: { file: string; status: string }[];
    /** Gives the image its final name (never replacing a file). */
    publish(): Promise<void>;
    /** Removes the unpublished image. Never throws. */
    discard(): Promise<void>;
}

/**
 * Every member's content checks (check-content.ts), made beside the copy: each file's checksum, and its lz4
 * frames where no checksum vouches for them. The copy decodes (and so checks) the frames the point uses; a
 * file whose checksum matches holds exactly the frames that were written. So a restore refuses what verify
 * refuses, with its message: a disk's first data error, else its first checksum error (verifySelection's
 * rule). (A frame written broken into a file that sums right, in a part of it this point does not use, is
 * what verify finds and a restore, which does not need it, does not.)
 */
async function contentProblem(checks: Promise<ContentCheck>[]): Promise<string | undefined> {
    const results = await Promise.all(checks);
    return results.find(c => c.dataError)?.dataError ?? results.find(c => c.checksumError)?.checksumError;
}

/**
 * The members whose bytes make the point: from the last full or copy on (a --sequence may hold an older
 * full before it, whose content it replaces, zero frames included).
 */
export function layersOfPoint(members: readonly BackupFile[]): readonly BackupFile[] {
    let base = members.length - 1;
    while (base > 0 && members[base].meta.incremental)
        base--;
    return members.slice(base);
}

/**
 * Restores one disk under its partial name. Its steps go on `undo`, the run's stack, and stay there when it
 * fails (the run unwinds them); on success only the image is left, which the caller then owns.
 */
export async function restoreDisk(job: DiskJob, undo: UndoStack, options: {
    signal?: AbortSignal;
    onProgress?: (p: DiskProgress) => void;
    tuning?: RestoreTuning;
}): Promise<DiskResult> {
    const { signal, onProgress } = options;
    if (job.format !== "qcow2" && job.format !== "raw")
        throw new Error(`cannot restore a disk of format "${job.format}" (only qcow2 and raw)`);
    await refuseExisting(job.output);
    signal?.throwIfAborted();
    const newest = job.members[job.members.length - 1].name;
    const sources = await StreamSource.openAll(layersOfPoint(job.members).map(m => path.join(job.dir, m.name)));
    const sourcesOpen = undo.onFailure(() => Promise.all(sources.map(s => s.close().catch(() => {}))).then(() => {}));
    const pieces = mergeLayers(sources.map(s => s.extents));
    const extents = mergedExtents(pieces, job.size);
    const placement = job.format === "qcow2" ? new Qcow2Layout(job.qcow2, job.size, extents) : rawPlacement(job.size);
    const sink = await ImageSink.create(job.output, job.size, placement);
    const keepImage = undo.onFailure(() => sink.abort(), () => fs.rmSync(sink.partialFile, { force: true }));
    const checkAbort = new AbortController();
    const onAbort = () => checkAbort.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort);
    try {
        // The point's own files are scanned once, for the copy; the checks use those scans. Every member is
        // summed beside the copy (2 MiB at a time, all at once), except those whose scan read and summed every
        // byte (a fragmented file's small frames). Its frames are decoded only where the sum cannot vouch for
        // them, one member at a time: together they would only share the same cores, each with its buffers
        // (lz4 frames of up to 32 MiB), and a long chain would hold them all.
        const layers = job.members.length - sources.length;
        const decodeQueue = new DecodeQueue();
        const checks = job.members.map((m, i) => {
            const check = checkContent(path.join(job.dir, m.name), {
                signal: checkAbort.signal, source: i >= layers ? sources[i - layers] : undefined, frames: "unless-summed", decodeQueue,
            });
            check.catch(() => {});
            return check;
        });
        const checksDone = undo.onFailure(async () => {
            checkAbort.abort();
            await Promise.allSettled(checks);
        });
        const largest = Math.max(0, ...sources.map(s => s.largestFixedChunk));
        const maxChunk = options.tuning?.maxChunk ?? MiB;
        let copyError: Error | undefined;
        let bytes = 0;
        const total = dataBytes(extents);
        onProgress?.({ dev: job.dev, done: 0, total, file: newest });
        await copyExtents(extents, new MergedSource(sources, pieces, true), sink, {
            maxChunk,
            maxInFlight: options.tuning?.maxInFlight ?? 64,
            // Room for two of the largest lz4 frames (the Python tool writes up to 32 MiB ones).
            maxBytesInFlight: Math.max(8 * MiB, 2 * largest),
            signal,
            onProgress: p => {
                bytes = p.done;
                onProgress?.({ dev: job.dev, done: p.done, total: p.total, file: newest });
            },
        }).catch((err: Error) => {
            signal?.throwIfAborted();
            copyError = err;
        });
        // What the members' own checks find explains a failed read better than the copy can.
        const problem = await contentProblem(checks);
        if (problem !== undefined)
            throw new Error(problem);
        if (copyError)
            throw copyError;
        const sums = await Promise.all(checks);
        checksDone();
        await Promise.all(sources.map(s => s.close()));
        sourcesOpen();
        signal?.throwIfAborted();
        // The image is the caller's from here: it publishes or discards it with the run's other files.
        keepImage();
        return {
            dev: job.dev, file: job.output, partial: sink.partialFile, bytes, files: job.members.map(m => m.name),
            checksums: job.members.map((m, i) => ({ file: m.name, status: sums[i].checksum === "ok" ? "ok" : "missing" })),
            publish: () => sink.publish(),
            discard: () => sink.abort(),
        };
    } finally {
        signal?.removeEventListener("abort", onAbort);
    }
}
