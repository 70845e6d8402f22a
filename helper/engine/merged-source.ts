// SPDX-License-Identifier: GPL-3.0-or-later
// A Source that reads the merged content of several stream files of one disk (merge-map.ts): each chunk
// is filled from the file whose bytes win at each of its ranges. Consolidation copies it with the same
// pipeline as backup and restore (copy.ts) into a StreamSink.
import type { Chunk, Extent, Source } from "./endpoint.ts";
import { splitFixed } from "./extents.ts";
import { pieceIndexAt, ZERO_LAYER, type Piece } from "./merge-map.ts";
import { alignedBuffer } from "fileio-node";

export class MergedSource implements Source {
    readonly size: number;

    /**
     * `layers[piece.layer]` serves each piece; `pieces` is mergeLayers() of their frames. `alongFrames`: chunks
     * follow the files' own chunks (a restore: an lz4 frame is read whole, once, straight into the copy's
     * buffer); otherwise fixed chunks, whatever files they come from (a consolidation cuts its output as a
     * backup does).
     */
    constructor(private readonly layers: readonly Source[], private readonly pieces: readonly Piece[], private readonly alongFrames = false) {
        if (layers.length === 0)
            throw new Error("a merged source needs at least one file");
        this.size = layers[0].size;
    }

    split(extent: Extent, maxChunk: number): Chunk[] {
        if (!this.alongFrames)
            return splitFixed(extent, maxChunk);
        const chunks: Chunk[] = [];
        const end = extent.offset + extent.length;
        let pos = extent.offset;
        for (let i = Math.max(0, pieceIndexAt(this.pieces, pos)); pos < end; i++) {
            const piece = this.pieces[i];
            if (!piece || piece.offset > pos || piece.offset + piece.length <= pos)
                throw new Error(`disk range ${pos}..${end} is in none of the merged files`);
            const range = { offset: pos, length: Math.min(end, piece.offset + piece.length) - pos, data: true };
            chunks.push(...(piece.layer === ZERO_LAYER ? splitFixed(range, maxChunk) : this.layers[piece.layer].split(range, maxChunk)));
            pos = range.offset + range.length;
        }
        return chunks;
    }

    async read(chunk: Chunk, buf: Buffer): Promise<Buffer> {
        const target = buf.length >= chunk.length ? buf.subarray(0, chunk.length) : alignedBuffer(chunk.length);
        const end = chunk.offset + chunk.length;
        const reads: Promise<void>[] = [];
        let pos = chunk.offset;
        for (let i = Math.max(0, pieceIndexAt(this.pieces, chunk.offset)); pos < end; i++) {
            const piece = this.pieces[i];
            if (!piece || piece.offset > pos || piece.offset + piece.length <= pos)
                throw new Error(`disk range ${pos}..${end} is in none of the merged files`);
            const to = Math.min(end, piece.offset + piece.length);
            const into = target.subarray(pos - chunk.offset, to - chunk.offset);
            if (piece.layer === ZERO_LAYER)
                into.fill(0);
            else
                reads.push(this.readLayer(piece.layer, { offset: pos, length: to - pos }, into));
            pos = to;
        }
        await Promise.all(reads);
        return target;
    }

    /** Fills `into` with `range` of one file, cut where that file's own chunks (lz4 frames) end. */
    private async readLayer(layer: number, range: Chunk, into: Buffer): Promise<void> {
        const source = this.layers[layer];
        await Promise.all(source.split({ ...range, data: true }, range.length).map(async (part) => {
            const at = part.offset - range.offset;
            const view = into.subarray(at, at + part.length);
            const got = await source.read(part, view);
            if (got.length !== part.length)
                throw new Error(`read ${got.length} bytes at offset ${part.offset}, expected ${part.length}`);
            if (got.buffer !== view.buffer || got.byteOffset !== view.byteOffset)
                got.copy(view);
        }));
    }

    async close(): Promise<void> {
        await Promise.all(this.layers.map(l => l.close()));
    }
}
