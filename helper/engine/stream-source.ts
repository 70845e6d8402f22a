// SPDX-License-Identifier: GPL-3.0-or-later
// Reads a virtnbdbackup stream file (format v2). open() checks the whole frame structure up front
// (format/stream-scan.ts: headers only, payloads skipped, using the compression trailer's sizes when
// compressed), so a damaged file fails before anything is restored, with the file and byte offset in the message.
import type { BigIntStats } from "node:fs";
import fsp from "node:fs/promises";
import { lz4DecompressFrame, lz4DecompressFrameInto } from "codec-node";
import { Adler32 } from "./adler32.ts";
import type { Chunk, Extent, Source } from "./endpoint.ts";
import { DEFAULT_MAX_REQUEST_SIZE, FormatError, isCompressed, type StreamMeta } from "../format/index.ts";
import type { FrameTable } from "../format/frame-table.ts";
import { scanStream, type StoredPiece, type StreamLayout } from "../format/stream-scan.ts";
import { alignedBuffer } from "fileio-node";

export interface StreamSourceOptions {
    /**
     * Uncompressed size of each lz4 frame of a multi-frame data extent whose frames do not record their
     * content size (both tools record it; only foreign files need this). Default 32 MiB.
     */
    assumedChunkSize?: number;
}

// Header reads go through a window so a long run of zero frames costs one read per window.
const WINDOW_BYTES = 8 * 1024;
// A miss this close after the end of the last window means small frames (a fragmented inc): a wide window
// then holds the headers of many of them, instead of one read per frame, and the windows follow each other,
// so the file is read in order, each byte once (what the kernel's read-ahead keeps up with).
const NEAR_BYTES = 256 * 1024;
const WIDE_WINDOW_BYTES = 1024 * 1024;

/**
 * Reads for the header scan. Exported for its unit test (test/unit/engine/window-reader.test.ts).
 * It also sums what it reads: when the windows cover the whole file in order (a fragmented file's do, the
 * near misses reading on from where the last window ended), the file's adler32 is known once the scan is
 * done, and a restore need not read the file again for its `.chksum`.
 */
export class WindowReader {
    private window = Buffer.alloc(0);
    private windowStart = 0;
    /**
     * Every window is read into this one block (a new one only for a read larger than it): the thousands of
     * windows of a fragmented file would otherwise each be a new 512 KiB buffer for the GC to collect.
     */
    private block = Buffer.alloc(0);
    /** adler32 of the file's bytes before `summedTo`: what the windows covered from the start without a gap. */
    private readonly sum = new Adler32();
    private summedTo = 0;

    constructor(private readonly fh: fsp.FileHandle, private readonly fileSize: number) {}

    /** adler32 of the whole file, when the windows read so far covered all of it; else undefined. */
    wholeFileSum(): number | undefined {
        return this.summedTo === this.fileSize ? this.sum.digest() : undefined;
    }

    /** `length` bytes at `position` (fewer at the end of the file); valid until the next call. */
    async bytes(position: number, length: number): Promise<Buffer> {
        const end = Math.min(position + length, this.fileSize);
        if (position >= this.windowStart && end <= this.windowStart + this.window.length) {
            return this.window.subarray(position - this.windowStart, end - this.windowStart);
        }
        const lastEnd = this.windowStart + this.window.length;
        const near = this.window.length > 0 && position > this.windowStart && position - lastEnd <= NEAR_BYTES;
        // A near miss past the window reads on from its end: the bytes between are what the kernel's
        // read-ahead fetched anyway, and the windows then cover the file without a gap.
        const start = near && position > lastEnd ? lastEnd : position;
        const size = Math.max(end - start, Math.min(near ? WIDE_WINDOW_BYTES : WINDOW_BYTES, this.fileSize - start), 0);
        if (this.block.length < size)
            this.block = alignedBuffer(Math.max(size, near ? WIDE_WINDOW_BYTES : 0));
        const buf = this.block.subarray(0, size);
        const got = await readAll(this.fh, buf, start);
        this.window = buf.subarray(0, got);
        this.windowStart = start;
        this.addToSum();
        return this.window.subarray(Math.min(position - start, got), Math.min(end - start, got));
    }

    /**
     * Sums the new window's bytes after `summedTo`. A window further on (a compressed file's trailer, read
     * before its frames; the header after a big frame) adds nothing: the sum waits for the bytes before it.
     */
    private addToSum(): void {
        const from = this.summedTo - this.windowStart;
        if (from >= 0 && from < this.window.length) {
            this.sum.update(this.window.subarray(from));
            this.summedTo = this.windowStart + this.window.length;
        }
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

// Payload reads of a fragmented file (small frames one after the other) are served from one sequential
// read of this size: a read costs a thread-pool round trip, copying 64 KiB out of a window much less.
const AHEAD_BYTES = 1024 * 1024;
/** Reads at most this long, starting at most this far after the previous one's end, go through a window. */
const AHEAD_SMALL_READ = 256 * 1024;
const AHEAD_NEAR = 256 * 1024;
/** Stored lz4 frames not decoded in place (large, or out of sequence) are read into blocks of at least this size, kept for reuse up to STORED_POOL_BYTES. */
const STORED_BLOCK = 72 * 1024;
const STORED_POOL_BYTES = 4 * 1024 * 1024;

/**
 * Blocks of stored frames that reads gave back, for the next reads of any file: one pool for the process,
 * so a chain of many compressed files keeps no more than one file would.
 */
const storedPool = { free: [] as Buffer[], bytes: 0 };

/** A buffer of exactly `length` bytes for a stored frame, from the blocks reads gave back when there is one. */
function storedBuffer(length: number): Buffer {
    for (let i = storedPool.free.length - 1; i >= 0; i--) {
        const b = storedPool.free[i];
        if (b.buffer.byteLength - b.byteOffset >= length) {
            storedPool.free.splice(i, 1);
            storedPool.bytes -= b.buffer.byteLength - b.byteOffset;
            return Buffer.from(b.buffer, b.byteOffset, length);
        }
    }
    return alignedBuffer(Math.max(length, STORED_BLOCK)).subarray(0, length);
}

function giveStoredBuffer(b: Buffer): void {
    const block = b.buffer.byteLength - b.byteOffset;
    if (storedPool.bytes + block <= STORED_POOL_BYTES) {
        storedPool.free.push(Buffer.from(b.buffer, b.byteOffset, block));
        storedPool.bytes += block;
    }
}

/**
 * Layouts of the files this process scanned, by the identity of the open file (device, inode, size, change
 * times): a run opens the same files for its point check, its copy and its content checks, and a fragmented
 * file's headers take as long to read as its data. A file that changed in any way is scanned again.
 */
const scanned = new Map<string, ScannedFile>();
let scannedFrames = 0;
/** Frames kept at most (a 16,000-frame file's layout takes a few MB). */
const SCANNED_MAX_FRAMES = 200_000;
/** Files changed less than this long ago are not remembered. */
const STABLE_MS = 2000;

/** What a scan learnt of a file: its layout, and its adler32 when the scan read all of it. */
interface ScannedFile {
    layout: StreamLayout;
    adler32: number | undefined;
}

function remember(key: string, scan: ScannedFile): void {
    scanned.set(key, scan);
    scannedFrames += scan.layout.frames.frameCount;
    for (const [oldKey, old] of scanned) {
        if (scannedFrames <= SCANNED_MAX_FRAMES || oldKey === key)
            break;
        scanned.delete(oldKey);
        scannedFrames -= old.layout.frames.frameCount;
    }
}

/** One sequential read, and the payload reads waiting for it. */
interface AheadWindow {
    start: number;
    end: number;
    block: Buffer;
    data: Promise<Buffer>;
    readers: number;
}

/**
 * Window blocks no reader uses any more, for the next windows of any file: one pool for the process. Frames
 * decoded in place hold their window until the decode is done, so windows retire out of order; without the
 * pool each would be garbage that V8 collects late (RSS climbed by ~50 MB over a 1 GB restore).
 */
const windowPool: Buffer[] = [];
const WINDOW_POOL_BLOCKS = 8;

class ReadAhead {
    private current: AheadWindow | undefined;
    private lastEnd = -1;

    constructor(private readonly fh: fsp.FileHandle, private readonly fileSize: number) {}

    /** Fills `target` from `position`; resolves with the bytes read (fewer only at the end of the file). */
    async read(target: Buffer, position: number): Promise<number> {
        const read = await this.use(position, target.length, async bytes => bytes.copy(target));
        return read ?? readAll(this.fh, target, position);
    }

    /**
     * Calls `use` with the `length` bytes at `position` (fewer at the end of the file) where they lie in a
     * window, without a copy; they stay valid until it settles. Undefined, without calling it, for a read
     * that is not small and in sequence: the caller reads those bytes itself.
     */
    async use<T>(position: number, length: number, use: (bytes: Buffer) => Promise<T>): Promise<T | undefined> {
        const end = position + length;
        const sequential = this.lastEnd >= 0 && position >= this.lastEnd && position - this.lastEnd <= AHEAD_NEAR;
        this.lastEnd = end;
        let w = this.current;
        if (!(w && position >= w.start && end <= w.end)) {
            if (length > AHEAD_SMALL_READ || !sequential || end > this.fileSize)
                return undefined;
            const block = (windowPool.pop() ?? alignedBuffer(AHEAD_BYTES)).subarray(0, Math.min(AHEAD_BYTES, this.fileSize - position));
            w = { start: position, end: position + block.length, block, data: readAll(this.fh, block, position).then(got => block.subarray(0, got)), readers: 0 };
            this.retire(this.current);
            this.current = w;
        }
        w.readers++;
        try {
            const data = await w.data;
            const from = position - w.start;
            return await use(data.subarray(Math.min(from, data.length), Math.min(data.length, from + length)));
        } finally {
            w.readers--;
            if (w !== this.current)
                this.retire(w);
        }
    }

    /** A window that is no longer current gives its block back once its last reader is done. */
    private retire(w: AheadWindow | undefined): void {
        if (w && w.readers === 0 && windowPool.length < WINDOW_POOL_BLOCKS) {
            w.readers = -1;  // given back once
            windowPool.push(Buffer.from(w.block.buffer, w.block.byteOffset, AHEAD_BYTES));
        }
    }
}

export class StreamSource implements Source {
    readonly size: number;
    readonly compressed: boolean;
    private readonly ahead: ReadAhead;

    private constructor(
        readonly file: string,
        private readonly fh: fsp.FileHandle,
        readonly meta: StreamMeta,
        /** Data and zero frames in file order, as the disk ranges they describe. */
        readonly extents: readonly Extent[],
        private readonly frames: FrameTable,
        /** Size of the file in bytes. */
        readonly fileSize: number,
        /**
         * adler32 of the whole file as the scan read it, when it read every byte (the small frames of a
         * fragmented file); undefined when it skipped payloads. What `.chksum` is compared with.
         */
        readonly scannedSum: number | undefined,
    ) {
        this.size = meta.virtualSize;
        this.compressed = isCompressed(meta);
        this.ahead = new ReadAhead(fh, fileSize);
    }

    /** Opens every file in order; when one fails, those already open are closed and its error is thrown. */
    static async openAll(files: readonly string[]): Promise<StreamSource[]> {
        const sources: StreamSource[] = [];
        try {
            for (const file of files)
                sources.push(await StreamSource.open(file));
        } catch (err) {
            await Promise.all(sources.map(s => s.close().catch(() => {})));
            throw err;
        }
        return sources;
    }

    /** Opens and validates `file`; throws FormatError naming the file and offset of the first problem. */
    static async open(file: string, options: StreamSourceOptions = {}): Promise<StreamSource> {
        const fh = await fsp.open(file, "r");
        try {
            const st = await fh.stat({ bigint: true });
            const size = Number(st.size);
            const assumed = options.assumedChunkSize ?? DEFAULT_MAX_REQUEST_SIZE;
            const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}:${assumed}`;
            let scan = scanned.get(key);
            if (!scan) {
                const reader = new WindowReader(fh, size);
                const layout = await scanStream(file, (position, length) => reader.bytes(position, length), size, assumed);
                scan = { layout, adler32: reader.wholeFileSum() };
                // Only a file that has not changed for a while: a file made or rewritten within one tick of the
                // change time's clock could share its identity with the one before.
                if (Date.now() - Number(st.ctimeMs) > STABLE_MS)
                    remember(key, scan);
            }
            return new StreamSource(file, fh, scan.layout.meta, scan.layout.extents, scan.layout.frames, size, scan.adler32);
        } catch (err) {
            await fh.close().catch(() => {});
            throw err;
        }
    }

    /** The largest chunk split() can give regardless of `maxChunk`: its biggest lz4 frame; 0 when uncompressed. */
    get largestFixedChunk(): number {
        return this.compressed ? this.frames.largestPiece() : 0;
    }

    /**
     * Chunks for (part of) the stream's data: fixed pieces of at most `maxChunk` when uncompressed; one
     * chunk per lz4 frame when compressed (the frame's own size, which may exceed `maxChunk`).
     */
    split(extent: Extent, maxChunk: number): Chunk[] {
        const chunks: Chunk[] = [];
        const end = extent.offset + extent.length;
        let pos = extent.offset;
        const t = this.frames;
        let i = t.frameIndexAt(pos);
        while (pos < end) {
            if (i < 0 || i >= t.frameCount || t.frameStart(i) > pos || t.frameEnd(i) <= pos) {
                throw new Error(`${this.file}: disk range ${pos}..${end} is not data in this stream`);
            }
            const frameEnd = Math.min(end, t.frameEnd(i));
            if (this.compressed) {
                const { first, end: last } = t.piecesOf(i);
                for (let j = first; j < last; j++) {
                    const from = Math.max(pos, t.pieceStart(j));
                    const to = Math.min(frameEnd, t.pieceEnd(j));
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
        const t = this.frames;
        const i = t.frameIndexAt(chunk.offset);
        if (i < 0 || chunk.offset + chunk.length > t.frameEnd(i)) {
            throw new Error(`${this.file}: chunk ${chunk.offset}+${chunk.length} is not inside one data frame`);
        }
        const { first, end: last } = t.piecesOf(i);
        if (!this.compressed) {
            const piece = t.piece(first);
            const target = buf.length >= chunk.length ? buf.subarray(0, chunk.length) : alignedBuffer(chunk.length);
            const at = piece.fileOffset + (chunk.offset - piece.offset);
            const got = await this.ahead.read(target, at);
            if (got !== chunk.length) throw new FormatError(`file ends inside a data payload (${got} of ${chunk.length} bytes)`, { file: this.file, offset: at + got });
            return target;
        }
        let j = first;
        while (j < last && t.pieceEnd(j) <= chunk.offset)
            j++;
        const piece = j < last && t.pieceStart(j) <= chunk.offset ? t.piece(j) : undefined;
        if (!piece || chunk.offset + chunk.length > piece.offset + piece.length) {
            throw new Error(`${this.file}: chunk ${chunk.offset}+${chunk.length} crosses an lz4 frame boundary`);
        }
        const decode = async (stored: Buffer): Promise<Buffer> => {
            if (stored.length !== piece.storedLength) {
                throw new FormatError(`file ends inside an lz4 frame (${stored.length} of ${piece.storedLength} bytes)`, { file: this.file, offset: piece.fileOffset + stored.length });
            }
            const whole = chunk.offset === piece.offset && chunk.length === piece.length;
            try {
                // Checks the frame's checksums, its size (piece.length) and that nothing follows it. A whole frame
                // is decoded straight into the caller's buffer (no new one per frame: memory stays flat).
                if (whole && buf.length >= piece.length) {
                    await lz4DecompressFrameInto(stored, buf, piece.length);
                    return buf.subarray(0, piece.length);
                }
                const data = await lz4DecompressFrame(stored, piece.length);
                return whole ? data : data.subarray(chunk.offset - piece.offset, chunk.offset - piece.offset + chunk.length);
            } catch (err) {
                throw new FormatError(`lz4 frame does not decompress: ${(err as Error).message}`, { file: this.file, offset: piece.fileOffset });
            }
        };
        // A small frame in sequence is decoded where the read-ahead window holds it; others are read first.
        const inWindow = await this.ahead.use(piece.fileOffset, piece.storedLength, decode);
        if (inWindow !== undefined)
            return inWindow;
        const stored = storedBuffer(piece.storedLength);
        try {
            const got = await readAll(this.fh, stored, piece.fileOffset);
            return await decode(stored.subarray(0, got));
        } finally {
            giveStoredBuffer(stored);
        }
    }

    /** Every stored piece of the data, in disk order (what a mapping reads from: helper/map). */
    storedPieces(): StoredPiece[] {
        return this.frames.pieces();
    }

    /** fstat of the open file (the file indexed is the file read). */
    stat(): Promise<BigIntStats> {
        return this.fh.stat({ bigint: true });
    }

    async close(): Promise<void> {
        await this.fh.close();
    }
}
