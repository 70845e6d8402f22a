// SPDX-License-Identifier: GPL-3.0-or-later
// Restores a raw-format disk's backup (a raw image saved as `<dev>.copy.data`, -r) as it is: its
// allocated ranges (SEEK_DATA/SEEK_HOLE, as `qemu-img map` reports them) copied through the copy
// pipeline into a sparse `<output>.partial`, holes left as holes; named only when the run publishes.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { copyExtents } from "../engine/copy.ts";
import type { Chunk, Extent, Source } from "../engine/endpoint.ts";
import { mergeExtents, splitFixed } from "../engine/extents.ts";
import { ImageSink, rawPlacement } from "../engine/image-sink.ts";
import type { UndoStack } from "../run/undo-stack.ts";
import { runTool } from "../tools/run-tool.ts";
import { requireChecksum } from "./checksum.ts";
import type { DiskProgress, DiskResult, RestoreTuning } from "./restore-disk.ts";

export interface RawImageJob {
    dev: string;
    /** Backup folder and the image's base name there. */
    dir: string;
    name: string;
    /** Final path of the restored image. */
    output: string;
}

/** The image's data and hole ranges, from `qemu-img map` of the file as raw. */
export async function rawImageExtents(file: string): Promise<Extent[]> {
    const out = await runTool("qemu-img", ["map", "-f", "raw", "--output=json", file]);
    const entries = JSON.parse(out) as { start: number; length: number; data: boolean }[];
    return mergeExtents(entries.map(e => ({ offset: e.start, length: e.length, data: e.data })));
}

class RawFileSource implements Source {
    constructor(private readonly fh: fsp.FileHandle, readonly size: number) {}

    split(extent: Extent, maxChunk: number): Chunk[] {
        return splitFixed(extent, maxChunk);
    }

    async read(chunk: Chunk, buf: Buffer): Promise<Buffer> {
        let got = 0;
        while (got < chunk.length) {
            const { bytesRead } = await this.fh.read(buf, got, chunk.length - got, chunk.offset + got);
            if (bytesRead === 0)
                throw new Error(`raw image ends at ${chunk.offset + got}, inside its own map`);
            got += bytesRead;
        }
        return buf.subarray(0, chunk.length);
    }

    async close(): Promise<void> {
        await this.fh.close();
    }
}

/** Copies one raw image under its partial name; like restoreDisk, its steps go on the run's stack `undo`. */
export async function restoreRawImage(job: RawImageJob, undo: UndoStack, options: {
    signal?: AbortSignal;
    onProgress?: (p: DiskProgress) => void;
    tuning?: RestoreTuning;
}): Promise<DiskResult> {
    const file = path.join(job.dir, job.name);
    const maxChunk = options.tuning?.maxChunk ?? 4 * 1024 * 1024;
    const maxInFlight = options.tuning?.maxInFlight ?? 16;
    const extents = await rawImageExtents(file);
    const fh = await fsp.open(file, "r");
    const source = new RawFileSource(fh, (await fh.stat()).size);
    try {
        options.signal?.throwIfAborted();
        // The image read beside the copy (both from the page cache) must match its .chksum, if any.
        const checksum = requireChecksum(file, options.signal);
        checksum.catch(() => {});
        const sink = await ImageSink.create(job.output, source.size, rawPlacement(source.size));
        const keepImage = undo.onFailure(() => sink.abort(), () => fs.rmSync(sink.partialFile, { force: true }));
        const result = await copyExtents(extents, source, sink, {
            maxChunk,
            maxInFlight,
            maxBytesInFlight: maxChunk * maxInFlight,
            signal: options.signal,
            onProgress: p => options.onProgress?.({ dev: job.dev, done: p.done, total: p.total, file: job.name }),
        });
        const status = (await checksum).status;
        // The image is the caller's from here, as restoreDisk's.
        keepImage();
        return {
            dev: job.dev, file: job.output, partial: sink.partialFile, bytes: result.done, files: [job.name],
            checksums: [{ file: job.name, status }],
            publish: () => sink.publish(),
            discard: () => sink.abort(),
        };
    } finally {
        await source.close().catch(() => {});
    }
}
