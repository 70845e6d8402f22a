// SPDX-License-Identifier: GPL-3.0-or-later
// Reads a virtnbdbackup stream file (format v2). open() checks the whole frame structure up front
// (headers only: payloads are skipped, using the compression trailer's sizes when compressed), so a
// damaged file fails before anything is restored, with the file and byte offset in the message.
import type { BigIntStats } from "node:fs";
import fsp from "node:fs/promises";
import { lz4DecompressFrame } from "codec-node";
import type { Chunk, Extent, Source } from "./endpoint.ts";
import {
    DEFAULT_MAX_REQUEST_SIZE, entryStoredSize, FormatError, FRAME_HEADER_LENGTH, isCompressed, isTerm,
    locateError, LZ4_MAX_HEADER_LENGTH, parseFrameHeader, parseLz4FrameHeader, parseMeta, parseTrailerJson,
    type FrameHeader, type StreamMeta, type TrailerEntry,
} from "../format/index.ts";

export interface StreamSourceOptions {
    /**
     * Uncompressed size of each lz4 frame of a multi-frame data extent whose frames do not record their
     * content size (both tools record it; only foreign files need this). Default 32 MiB.
     */
    assumedChunkSize?: number;
}

/** One stored piece of a data frame: all of it when uncompressed, one lz4 frame when compressed. */
export interface StoredPiece {
    /** Disk offset and uncompressed length. */
    offset: number;
    length: number;
    /** Where its bytes lie in the file, and how many. */
    fileOffset: number;
    storedLength: number;
}

interface DataFrame {
    offset: number;
    length: number;
    pieces: StoredPiece[];
}

// Header reads go through a window so a long run of zero frames costs one read per window.
const WINDOW_BYTES = 8 * 1024;
// A miss this close after the last window's start means small data frames (a fragmented inc): a wider
// window then holds the headers of many of them, instead of one read per frame.
const NEAR_BYTES = 256 * 1024;
const WIDE_WINDOW_BYTES = 512 * 1024;

class WindowReader {
    private window = Buffer.alloc(0);
    private windowStart = 0;

    constructor(private readonly fh: fsp.FileHandle, private readonly fileSize: number) {}

    /** `length` bytes at `position` (fewer at the end of the file); valid until the next call. */
    async bytes(position: number, length: number): Promise<Buffer> {
        const end = Math.min(position + length, this.fileSize);
        if (position >= this.windowStart && end <= this.windowStart + this.window.length) {
            return this.window.subarray(position - this.windowStart, end - this.windowStart);
        }
        const near = this.window.length > 0 && position > this.windowStart && position - this.windowStart <= NEAR_BYTES;
        const size = Math.max(end - position, Math.min(near ? WIDE_WINDOW_BYTES : WINDOW_BYTES, this.fileSize - position));
        const buf = Buffer.allocUnsafe(Math.max(size, 0));
        const got = await readAll(this.fh, buf, position);
        this.window = buf.subarray(0, got);
        this.windowStart = position;
        return this.window.subarray(0, Math.min(end - position, got));
    }
}

async function readAll(fh: fsp.FileHandle, buf: Buffer, position: number): Promise<number> {
    let done = 0;
    while (done < buf.length) {
        const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
    }
    return done;
}

export class StreamSource implements Source {
    readonly size: number;
    readonly compressed: boolean;

    private constructor(
        readonly file: string,
        private readonly fh: fsp.FileHandle,
        readonly meta: StreamMeta,
        /** Data and zero frames in file order, as the disk ranges they describe. */
        readonly extents: readonly Extent[],
        private readonly dataFrames: readonly DataFrame[],
        /** Size of the file in bytes. */
        readonly fileSize: number,
    ) {
        this.size = meta.virtualSize;
        this.compressed = isCompressed(meta);
    }

    /** Opens and validates `file`; throws FormatError naming the file and offset of the first problem. */
    static async open(file: string, options: StreamSourceOptions = {}): Promise<StreamSource> {
        const fh = await fsp.open(file, "r");
        try {
            const { size } = await fh.stat();
            const scan = await scanStream(file, fh, size, options.assumedChunkSize ?? DEFAULT_MAX_REQUEST_SIZE);
            return new StreamSource(file, fh, scan.meta, scan.extents, scan.dataFrames, size);
        } catch (err) {
            await fh.close().catch(() => {});
            throw err;
        }
    }

    /** The largest chunk split() can give regardless of `maxChunk`: its biggest lz4 frame; 0 when uncompressed. */
    get largestFixedChunk(): number {
        let largest = 0;
        if (this.compressed) {
            for (const frame of this.dataFrames)
                for (const piece of frame.pieces) largest = Math.max(largest, piece.length);
        }
        return largest;
    }

    /**
     * Chunks for (part of) the stream's data: fixed pieces of at most `maxChunk` when uncompressed; one
     * chunk per lz4 frame when compressed (the frame's own size, which may exceed `maxChunk`).
     */
    split(extent: Extent, maxChunk: number): Chunk[] {
        const chunks: Chunk[] = [];
        const end = extent.offset + extent.length;
        let pos = extent.offset;
        let i = this.frameIndexAt(pos);
        while (pos < end) {
            const frame = this.dataFrames[i];
            if (!frame || frame.offset > pos || frame.offset + frame.length <= pos) {
                throw new Error(`${this.file}: disk range ${pos}..${end} is not data in this stream`);
            }
            const frameEnd = Math.min(end, frame.offset + frame.length);
            if (this.compressed) {
                for (const piece of frame.pieces) {
                    const from = Math.max(pos, piece.offset);
                    const to = Math.min(frameEnd, piece.offset + piece.length);
                    if (from < to) chunks.push({ offset: from, length: to - from });
                }
            } else {
                for (let at = pos; at < frameEnd; at += maxChunk) {
                    chunks.push({ offset: at, length: Math.min(maxChunk, frameEnd - at) });
                }
            }
            pos = frameEnd;
            i++;
        }
        return chunks;
    }

    async read(chunk: Chunk, buf: Buffer): Promise<Buffer> {
        const frame = this.dataFrames[this.frameIndexAt(chunk.offset)];
        if (!frame || chunk.offset < frame.offset || chunk.offset + chunk.length > frame.offset + frame.length) {
            throw new Error(`${this.file}: chunk ${chunk.offset}+${chunk.length} is not inside one data frame`);
        }
        if (!this.compressed) {
            const piece = frame.pieces[0];
            const target = buf.length >= chunk.length ? buf.subarray(0, chunk.length) : Buffer.allocUnsafe(chunk.length);
            const at = piece.fileOffset + (chunk.offset - frame.offset);
            const got = await readAll(this.fh, target, at);
            if (got !== chunk.length) throw new FormatError(`file ends inside a data payload (${got} of ${chunk.length} bytes)`, { file: this.file, offset: at + got });
            return target;
        }
        const piece = frame.pieces.find((p) => chunk.offset >= p.offset && chunk.offset < p.offset + p.length);
        if (!piece || chunk.offset + chunk.length > piece.offset + piece.length) {
            throw new Error(`${this.file}: chunk ${chunk.offset}+${chunk.length} crosses an lz4 frame boundary`);
        }
        const stored = Buffer.allocUnsafe(piece.storedLength);
        const got = await readAll(this.fh, stored, piece.fileOffset);
        if (got !== piece.storedLength) {
            throw new FormatError(`file ends inside an lz4 frame (${got} of ${piece.storedLength} bytes)`, { file: this.file, offset: piece.fileOffset + got });
        }
        let data: Buffer;
        try {
            // Checks the frame's checksums, its size (piece.length) and that nothing follows it.
            data = await lz4DecompressFrame(stored, piece.length);
        } catch (err) {
            throw new FormatError(`lz4 frame does not decompress: ${(err as Error).message}`, { file: this.file, offset: piece.fileOffset });
        }
        return chunk.offset === piece.offset && chunk.length === piece.length
            ? data
            : data.subarray(chunk.offset - piece.offset, chunk.offset - piece.offset + chunk.length);
    }

    /** Every stored piece of the data, in disk order (what a mapping reads from: helper/map). */
    storedPieces(): StoredPiece[] {
        return this.dataFrames.flatMap(f => f.pieces);
    }

    /** fstat of the open file (the file indexed is the file read). */
    stat(): Promise<BigIntStats> {
        return this.fh.stat({ bigint: true });
    }

    async close(): Promise<void> {
        await this.fh.close();
    }

    /** Index of the last data frame starting at or before `offset` (binary search). */
    private frameIndexAt(offset: number): number {
        let lo = 0;
        let hi = this.dataFrames.length - 1;
        let found = -1;
        while (lo <= hi) {
            const mid = (lo + hi) >> 1;
            if (this.dataFrames[mid].offset <= offset) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }
}

interface Scan {
    meta: StreamMeta;
    extents: Extent[];
    dataFrames: DataFrame[];
}

async function scanStream(file: string, fh: fsp.FileHandle, fileSize: number, assumedChunkSize: number): Promise<Scan> {
    const reader = new WindowReader(fh, fileSize);
    const fail = (detail: string, offset: number): never => {
        throw new FormatError(detail, { file, offset });
    };
    const header = async (at: number, limit: number, what: string): Promise<FrameHeader> => {
        if (at + FRAME_HEADER_LENGTH > limit) {
            fail(`${what}: ${limit - at} bytes left where a ${FRAME_HEADER_LENGTH}-byte frame header belongs (file truncated?)`, at);
        }
        try {
            return parseFrameHeader(await reader.bytes(at, FRAME_HEADER_LENGTH));
        } catch (err) {
            throw locateError(err, { file, offset: at });
        }
    };
    const expectTerm = async (at: number, what: string): Promise<void> => {
        if (!isTerm(await reader.bytes(at, 2))) fail(`missing CRLF after ${what}`, at);
    };

    // meta frame
    if (fileSize === 0) fail("empty file, not a stream", 0);
    const metaHeader = await header(0, fileSize, "meta frame");
    if (metaHeader.kind !== "meta") fail(`first frame is "${metaHeader.kind}", expected "meta"`, 0);
    const metaEnd = FRAME_HEADER_LENGTH + metaHeader.length;
    if (metaEnd + 2 > fileSize) fail(`meta frame of ${metaHeader.length} bytes runs past the end of the file`, FRAME_HEADER_LENGTH);
    let meta: StreamMeta;
    try {
        meta = parseMeta(Buffer.from(await reader.bytes(FRAME_HEADER_LENGTH, metaHeader.length)));
    } catch (err) {
        throw locateError(err, { file, offset: FRAME_HEADER_LENGTH });
    }
    await expectTerm(metaEnd, "the meta frame");

    // compression trailer, read from the end: "<json>\r\n" + comp header
    let trailer: TrailerEntry[] | undefined;
    let framesEnd = fileSize;
    if (isCompressed(meta)) {
        const compAt = fileSize - FRAME_HEADER_LENGTH;
        if (compAt < metaEnd + 2) fail("compressed stream has no room for its compression trailer", Math.max(compAt, 0));
        let comp: FrameHeader;
        try {
            comp = parseFrameHeader(await reader.bytes(compAt, FRAME_HEADER_LENGTH));
        } catch (err) {
            throw new FormatError(`compressed stream does not end with a comp frame (truncated?): ${err instanceof FormatError ? err.detail : err}`, { file, offset: compAt });
        }
        if (comp.kind !== "comp") fail(`compressed stream does not end with a comp frame (found "${comp.kind}")`, compAt);
        const jsonAt = compAt - 2 - comp.length;
        if (jsonAt < metaEnd + 2) fail(`compression trailer of ${comp.length} bytes does not fit in the file`, compAt);
        try {
            trailer = parseTrailerJson(Buffer.from(await reader.bytes(jsonAt, comp.length)));
        } catch (err) {
            throw locateError(err, { file, offset: jsonAt });
        }
        await expectTerm(compAt - 2, "the compression trailer");
        framesEnd = jsonAt;
    }

    // data/zero frames up to stop
    const extents: Extent[] = [];
    const dataFrames: DataFrame[] = [];
    let at = metaEnd + 2;
    let lastEnd = 0;
    let dataSize = 0;
    for (;;) {
        const h = await header(at, framesEnd, "missing stop frame");
        if (h.kind === "stop") {
            at += FRAME_HEADER_LENGTH;
            if (dataSize !== meta.dataSize) fail(`stop frame after ${dataSize} data bytes, but the meta frame announces dataSize ${meta.dataSize}`, at - FRAME_HEADER_LENGTH);
            if (trailer && trailer.length !== dataFrames.length) {
                fail(`compression trailer lists ${trailer.length} data frames, the stream has ${dataFrames.length}`, framesEnd);
            }
            if (at !== framesEnd) fail(`${framesEnd - at} bytes of garbage after the stop frame`, at);
            break;
        }
        if (h.kind !== "data" && h.kind !== "zero") fail(`unexpected "${h.kind}" frame`, at);
        if (h.length === 0) fail(`empty ${h.kind} frame`, at);
        if (h.start < lastEnd) fail(`${h.kind} frame at disk offset ${h.start} is not after the previous frame's end ${lastEnd}`, at);
        if (h.start + h.length > meta.virtualSize) fail(`${h.kind} frame ${h.start}+${h.length} exceeds the disk size ${meta.virtualSize}`, at);
        lastEnd = h.start + h.length;
        extents.push({ offset: h.start, length: h.length, data: h.kind === "data" });
        const payloadAt = at + FRAME_HEADER_LENGTH;
        if (h.kind === "zero") {
            at = payloadAt;
            continue;
        }
        let pieces: StoredPiece[];
        let stored: number;
        if (trailer) {
            const entry = trailer[dataFrames.length];
            if (entry === undefined) fail(`data frame ${dataFrames.length + 1} has no entry in the compression trailer (${trailer.length} entries)`, at);
            stored = entryStoredSize(entry);
            if (payloadAt + stored + 2 > framesEnd) fail(`data payload of ${stored} stored bytes runs past the end of the frames (file truncated?)`, payloadAt);
            const sizes = typeof entry === "number" ? [entry] : entry.sizes;
            pieces = await lz4Pieces(reader, file, h, payloadAt, sizes, assumedChunkSize);
        } else {
            stored = h.length;
            if (payloadAt + stored + 2 > framesEnd) fail(`data payload of ${stored} bytes runs past the end of the file (truncated?)`, payloadAt);
            pieces = [{ offset: h.start, length: h.length, fileOffset: payloadAt, storedLength: stored }];
        }
        await expectTerm(payloadAt + stored, "a data payload");
        dataFrames.push({ offset: h.start, length: h.length, pieces });
        dataSize += h.length;
        at = payloadAt + stored + 2;
    }
    return { meta, extents, dataFrames };
}

/** Locates the lz4 frames of one data payload and learns each one's uncompressed length. */
async function lz4Pieces(
    reader: WindowReader, file: string, h: FrameHeader, payloadAt: number, sizes: readonly number[], assumedChunkSize: number,
): Promise<StoredPiece[]> {
    if (sizes.length === 1) return [{ offset: h.start, length: h.length, fileOffset: payloadAt, storedLength: sizes[0] }];
    const pieces: StoredPiece[] = [];
    let fileOffset = payloadAt;
    let offset = h.start;
    let recorded = true;
    for (const storedLength of sizes) {
        let contentSize: number | undefined;
        try {
            contentSize = parseLz4FrameHeader(Buffer.from(await reader.bytes(fileOffset, Math.min(LZ4_MAX_HEADER_LENGTH, storedLength)))).contentSize;
        } catch (err) {
            throw locateError(err, { file, offset: fileOffset });
        }
        if (contentSize === undefined) recorded = false;
        pieces.push({ offset, length: contentSize ?? 0, fileOffset, storedLength });
        offset += contentSize ?? 0;
        fileOffset += storedLength;
    }
    if (!recorded) {
        // No sizes in the frames: assume the writer cut at a fixed chunk size, as both tools do.
        const expected = Math.ceil(h.length / assumedChunkSize);
        if (expected !== sizes.length) {
            throw new FormatError(`data frame of ${h.length} bytes has ${sizes.length} lz4 frames without content sizes; chunks of ${assumedChunkSize} would make ${expected}`, { file, offset: payloadAt });
        }
        pieces.forEach((p, i) => {
            p.offset = h.start + i * assumedChunkSize;
            p.length = Math.min(assumedChunkSize, h.length - i * assumedChunkSize);
        });
    } else if (offset !== h.start + h.length) {
        throw new FormatError(`lz4 frames of the data frame hold ${offset - h.start} bytes, the frame header says ${h.length}`, { file, offset: payloadAt });
    }
    return pieces;
}
