// SPDX-License-Identifier: GPL-3.0-or-later
// Writes one virtnbdbackup stream file (format v2): meta frame, data/zero frames in offset order, stop
// frame, compression trailer. Bytes go to an OutputFile ("<file>.partial", a frame's header and CRLF
// ride along with the next payload in one writev), which sums the adler32 for "<file>.chksum" in the
// same thread-pool job as the write, and the file gets its final name only when complete.
import fsp from "node:fs/promises";
import os from "node:os";
import { lz4CompressFrameBound, lz4CompressFrameInto, lz4CompressFramesInto, type Lz4CompressOptions } from "codec-node";
import type { Chunk, Extent, Sink } from "./endpoint.ts";
import { OutputFile, refuseExisting, type WrittenListener } from "./output-file.ts";
import { writeNewFile } from "../fs/safe-open.ts";
import {
    checksumFileName, COMPRESSION_METHOD, DEFAULT_MAX_REQUEST_SIZE, encodeFrameHeader, encodeMeta,
    encodeTrailer, TERM, trailerEntryFor,
    type StreamMeta, type TrailerEntry,
} from "../format/index.ts";

/** The meta frame's dataSize for an extent plan: the summed length of its data extents. */
export function streamDataSize(extents: readonly Extent[]): number {
    let sum = 0;
    for (const e of extents) if (e.data) sum += e.length;
    return sum;
}

export interface StreamSinkOptions {
    /**
     * lz4 level (recorded in the meta frame and used by liblz4; above 12 counts as 12), or false.
     * Default: the meta's own `compressed` value.
     */
    compress?: false | number;
    /**
     * The NBD server's maximum request size (32 MiB on QEMU). The other tool's reader needs data extents
     * of at least this size as a list of lz4 frames and shorter ones as exactly one frame.
     */
    maxRequestSize?: number;
    /**
     * Leave the written pages in the page cache (by default they are dropped behind the writer): for a
     * caller that reads the file back (consolidation checks its new file against its checksum).
     */
    keepCached?: boolean;
    /** Told of every completed write to the partial file (a reader following the writer: read-back.ts). */
    onWritten?: WrittenListener;
}

// Headers and CRLFs wait here for the next payload; a long run of zero frames is flushed at this size.
const PENDING_FLUSH_BYTES = 64 * 1024;
// Payloads up to this size (small dirty extents) are copied into a staging buffer with their frames, and
// the buffer is written when full: one write and one checksum job for many small frames, not one each
// (a thread-pool round trip per frame was most of a fragmented incremental's per-extent cost).
const STAGE_PAYLOAD_MAX = 256 * 1024;
const STAGE_BYTES = 1024 * 1024;

type State = "open" | "finishing" | "finished" | "aborted";

interface OpenExtent {
    extent: Extent;
    next: number;
    sizes: number[];
}

export class StreamSink implements Sink {
    /** Present only when compressing: lz4-compresses a chunk off the main thread. */
    readonly transform?: (chunk: Chunk, data: Buffer) => Promise<Buffer>;
    /** adler32 of the whole file, known once finish() has written it. */
    checksum: number | undefined;

    /** adler32 of the bytes written so far (zlib's initial value 1). */
    private adler = 1;
    private readonly trailer: TrailerEntry[] = [];
    private pending: Buffer[] = [];
    private pendingBytes = 0;
    /** Bytes waiting in order before `pending`: [0, staged) of `stage`, copies of small frames. */
    private stage: Buffer | undefined;
    private staged = 0;
    private position = 0;
    private dataWritten = 0;
    private lastEnd = 0;
    private current: OpenExtent | undefined;
    private state: State = "open";
    // Calls run one after another even if a caller does not await them; the first failure sticks.
    private tail: Promise<void> = Promise.resolve();
    private failure: unknown;
    private readonly compressor: Lz4Batcher | undefined;

    private constructor(
        private readonly out: OutputFile,
        readonly meta: StreamMeta,
        private readonly maxRequestSize: number,
    ) {
        if (meta.compressed !== false) {
            const compressor = new Lz4Batcher(lz4Options(meta.compressed));
            this.compressor = compressor;
            this.transform = (chunk, data) => compressChunk(chunk, data, compressor);
        }
        const json = encodeMeta(meta);
        this.queueSmall(encodeFrameHeader("meta", 0, json.length));
        this.queueSmall(json);
        this.queueSmall(TERM);
    }

    /** Opens `<file>.partial` for writing; fails at once when `file` itself already exists. */
    static async create(file: string, meta: StreamMeta, options: StreamSinkOptions = {}): Promise<StreamSink> {
        const compressed = options.compress !== undefined ? options.compress : meta.compressed;
        const fullMeta: StreamMeta = { ...meta, compressed, compressionMethod: COMPRESSION_METHOD };
        encodeMeta(fullMeta); // validates before anything is created
        const out = await OutputFile.create(file, undefined, { keepCached: options.keepCached, onWritten: options.onWritten });
        return new StreamSink(out, fullMeta, options.maxRequestSize ?? DEFAULT_MAX_REQUEST_SIZE);
    }

    get file(): string {
        return this.out.file;
    }

    get partialFile(): string {
        return this.out.partialFile;
    }

    /** Compressed: an extent below the max request size must be one lz4 frame (the other tool's reader). */
    chunkSize(extent: Extent, maxChunk: number): number {
        if (!this.transform || extent.length >= this.maxRequestSize)
            return Math.min(maxChunk, this.maxRequestSize);
        return extent.length;
    }

    get checksumFile(): string {
        return checksumFileName(this.file);
    }

    beginData(extent: Extent): Promise<void> {
        return this.enqueue(() => {
            if (this.current) throw new Error(`data extent at ${extent.offset} begins before the one at ${this.current.extent.offset} ended`);
            this.checkPlace(extent, true);
            this.current = { extent, next: extent.offset, sizes: [] };
            this.queueSmall(encodeFrameHeader("data", extent.offset, extent.length));
        });
    }

    writeChunk(chunk: Chunk, data: Buffer): Promise<void> {
        return this.enqueue(async () => {
            const cur = this.current;
            if (!cur) throw new Error(`chunk at ${chunk.offset} outside a data extent`);
            const end = cur.extent.offset + cur.extent.length;
            if (chunk.offset !== cur.next || chunk.length <= 0 || chunk.offset + chunk.length > end) {
                throw new Error(`chunk ${chunk.offset}+${chunk.length} does not continue data extent ${cur.extent.offset}+${cur.extent.length} at ${cur.next}`);
            }
            if (this.transform) {
                cur.sizes.push(data.length);
                if (cur.extent.length < this.maxRequestSize && cur.sizes.length > 1) {
                    throw new Error(`compressed data extent ${cur.extent.offset}+${cur.extent.length} is shorter than the max request size ${this.maxRequestSize} and must be one chunk`);
                }
            } else if (data.length !== chunk.length) {
                throw new Error(`chunk at ${chunk.offset}: got ${data.length} bytes, expected ${chunk.length}`);
            }
            await this.put(data);
            // Written (or staged: copied): a frame in one of the compressor's buffers can hold the next one.
            this.compressor?.release(data);
            cur.next += chunk.length;
            this.dataWritten += chunk.length;
        });
    }

    endData(extent: Extent): Promise<void> {
        return this.enqueue(() => {
            const cur = this.current;
            if (!cur || cur.extent.offset !== extent.offset || cur.extent.length !== extent.length) {
                throw new Error(`endData for ${extent.offset}+${extent.length} does not match the open data extent`);
            }
            if (cur.next !== extent.offset + extent.length) {
                throw new Error(`data extent ${extent.offset}+${extent.length} ended after ${cur.next - extent.offset} bytes`);
            }
            this.queueSmall(TERM);
            if (this.transform) this.trailer.push(trailerEntryFor(extent.length, cur.sizes, this.maxRequestSize));
            this.lastEnd = extent.offset + extent.length;
            this.current = undefined;
        });
    }

    writeZero(extent: Extent): Promise<void> {
        return this.enqueue(async () => {
            if (this.current) throw new Error(`zero extent at ${extent.offset} inside an open data extent`);
            this.checkPlace(extent, false);
            this.lastEnd = extent.offset + extent.length;
            // Like the other tool: inc/diff files hold only data frames.
            if (this.meta.incremental) return;
            this.queueSmall(encodeFrameHeader("zero", extent.offset, extent.length));
            if (this.pendingBytes >= PENDING_FLUSH_BYTES) await this.put(undefined);
        });
    }

    finish(): Promise<void> {
        return this.enqueue(async () => {
            if (this.current) throw new Error(`finish with data extent ${this.current.extent.offset} still open`);
            if (this.dataWritten !== this.meta.dataSize) {
                throw new Error(`wrote ${this.dataWritten} data bytes but the meta frame announces dataSize ${this.meta.dataSize}`);
            }
            this.state = "finishing";
            this.queueSmall(encodeFrameHeader("stop", 0, 0));
            if (this.transform) this.queueSmall(encodeTrailer(this.trailer));
            await this.put(undefined);
            await this.out.close();
            this.checksum = this.adler;
            // Not even the checksum file of a backup that appeared meanwhile may be replaced.
            await refuseExisting(this.file);
            // Created new, 0600, never through a name that exists (helper/fs/safe-open.ts).
            await writeNewFile(this.checksumFile, String(this.checksum), 0o600);
            try {
                await this.out.publish();
            } catch (err) {
                await fsp.rm(this.checksumFile, { force: true }).catch(() => {});
                throw err;
            }
            this.state = "finished";
        });
    }

    async abort(): Promise<void> {
        if (this.state === "finished" || this.state === "aborted") return;
        this.failure ??= new Error("stream sink aborted");
        this.state = "aborted";
        await this.tail.catch(() => {});
        await this.out.discard();
    }

    private enqueue(step: () => void | Promise<void>): Promise<void> {
        const run = this.tail.then(() => {
            if (this.failure !== undefined) throw this.failure;
            if (this.state !== "open") throw new Error(`stream sink is ${this.state}`);
            return step();
        });
        this.tail = run.catch((err) => {
            this.failure ??= err;
        });
        return run;
    }

    private checkPlace(extent: Extent, data: boolean): void {
        const kind = data ? "data" : "zero";
        if (extent.data !== data) throw new Error(`${kind} call for an extent with data=${extent.data}`);
        if (!Number.isSafeInteger(extent.offset) || !Number.isSafeInteger(extent.length) || extent.length <= 0) {
            throw new Error(`${kind} extent ${extent.offset}+${extent.length} is not a positive byte range`);
        }
        if (extent.offset < this.lastEnd) throw new Error(`${kind} extent at ${extent.offset} is not after the previous end ${this.lastEnd}`);
        if (extent.offset + extent.length > this.meta.virtualSize) {
            throw new Error(`${kind} extent ${extent.offset}+${extent.length} exceeds the disk size ${this.meta.virtualSize}`);
        }
    }

    private queueSmall(buf: Buffer): void {
        this.pending.push(buf);
        this.pendingBytes += buf.length;
    }

    /**
     * Writes the staged bytes, the queued small pieces and `payload` at the current position, summing adler32
     * on the way; a small payload is only staged (copied: the caller may reuse its buffer once this resolves).
     */
    private async put(payload: Buffer | undefined): Promise<void> {
        if (payload && payload.length > 0 && payload.length <= STAGE_PAYLOAD_MAX) {
            const need = this.pendingBytes + payload.length;
            if (this.staged + need > STAGE_BYTES && this.staged > 0) await this.write(undefined);
            if (need <= STAGE_BYTES) {
                this.stage ??= Buffer.allocUnsafe(STAGE_BYTES);
                for (const b of this.pending) this.staged += b.copy(this.stage, this.staged);
                this.staged += payload.copy(this.stage, this.staged);
                this.pending = [];
                this.pendingBytes = 0;
                return;
            }
        }
        await this.write(payload);
    }

    /** Writes everything staged and queued, then `payload`, in one positioned write. */
    private async write(payload: Buffer | undefined): Promise<void> {
        const buffers: Buffer[] = [];
        if (this.staged > 0) buffers.push(this.stage!.subarray(0, this.staged));
        if (this.pending.length > 0) buffers.push(this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending));
        if (payload && payload.length > 0) buffers.push(payload);
        if (buffers.length === 0) return;
        this.adler = await this.out.writeSummed(buffers, this.position, this.adler);
        for (const b of buffers) this.position += b.length;
        // Only now: the staging buffer was being written until the write returned.
        this.staged = 0;
        this.pending = [];
        this.pendingBytes = 0;
    }
}

/**
 * Frames as the other tool writes them: its level, block and content checksums, and the content size,
 * which lets a reader learn each chunk's length from the frame header.
 */
function lz4Options(level: number): Lz4CompressOptions {
    return { level, blockChecksum: true, contentChecksum: true, contentSize: true };
}

function compressChunk(chunk: Chunk, data: Buffer, compressor: Lz4Batcher): Promise<Buffer> {
    if (data.length !== chunk.length) {
        return Promise.reject(new Error(`chunk at ${chunk.offset}: got ${data.length} bytes, expected ${chunk.length}`));
    }
    return compressor.compress(data);
}

// Small chunks (the small dirty extents of an incremental) are compressed together: those that arrive in one
// turn of the event loop, up to this many bytes, make one thread-pool job (each still its own frame, byte for
// byte), instead of one job, one result Buffer and one Promise round trip each.
const BATCH_PAYLOAD_MAX = STAGE_PAYLOAD_MAX;
const BATCH_BYTES = 1024 * 1024;

interface Waiting {
    data: Buffer;
    resolve: (frame: Buffer) => void;
    reject: (err: unknown) => void;
}

// Frames are written into buffers of the compressor's own (a big chunk's alone, a batch's back to back), which go
// back to it once their frames are written: a result block allocated on liblz4's thread each time cost page faults
// and lived until V8 collected it (the mixed 4 KiB – 4 MiB case peaked near the 150 MB limit; bench/results/
// experiments.md §11). Kept up to this many bytes, about what the copy has in flight; sizes in steps of 256 KiB
// so neighbours fit each other.
const FRAME_BUFFERS_KEPT = 24 * 1024 * 1024;
const FRAME_BUFFER_STEP = 256 * 1024;

// liblz4 jobs at once. The copy's reads need the main thread and the server (QEMU) a core too: with as many
// compressions as the thread pool has threads, a 2-core host ran them 4 at a time and starved both, 40 % slower
// than with one a time (bench/results/experiments.md §16). Waiting chunks meanwhile join the next batch.
const COMPRESSIONS_AT_ONCE = Math.max(1, os.availableParallelism() - 1);

class Lz4Batcher {
    private waiting: Waiting[] = [];
    private bytes = 0;
    private scheduled = false;
    private free: Buffer[] = [];
    private kept = 0;
    /** Buffers holding frames not yet written, by their memory (a frame is a view of one), and how many. */
    private readonly lent = new Map<ArrayBufferLike, { buffer: Buffer; frames: number }>();
    private running = 0;
    /** Jobs (a big chunk's, or a full batch's) waiting for one of the COMPRESSIONS_AT_ONCE places. */
    private readonly ready: (() => Promise<void>)[] = [];

    constructor(private readonly options: Lz4CompressOptions) {}

    /** `frame` (a result of compress()) is written: its buffer, if it is one of ours, may be used again. */
    release(frame: Buffer): void {
        const lent = this.lent.get(frame.buffer);
        if (lent === undefined || --lent.frames > 0)
            return;
        this.lent.delete(frame.buffer);
        const buffer = lent.buffer;
        this.free.push(buffer);
        this.kept += buffer.length;
        while (this.kept > FRAME_BUFFERS_KEPT) {
            this.free.sort((a, b) => a.length - b.length);
            this.kept -= this.free.pop()!.length;
        }
    }

    private take(room: number): Buffer {
        let best = -1;
        for (let i = 0; i < this.free.length; i++) {
            if (this.free[i].length >= room && (best < 0 || this.free[i].length < this.free[best].length))
                best = i;
        }
        if (best < 0)
            return Buffer.allocUnsafeSlow(Math.ceil(room / FRAME_BUFFER_STEP) * FRAME_BUFFER_STEP);
        const buffer = this.free.splice(best, 1)[0];
        this.kept -= buffer.length;
        return buffer;
    }

    compress(data: Buffer): Promise<Buffer> {
        if (data.length > BATCH_PAYLOAD_MAX) {
            return new Promise((resolve, reject) => {
                this.start(() => this.compressOne(data).then(resolve, reject));
            });
        }
        return new Promise((resolve, reject) => {
            this.waiting.push({ data, resolve, reject });
            this.bytes += data.length;
            if (this.bytes >= BATCH_BYTES) {
                this.flush();
            } else if (!this.scheduled) {
                // After the reads that completed in this turn (setImmediate runs after the poll phase).
                this.scheduled = true;
                setImmediate(() => {
                    this.scheduled = false;
                    // With every place taken, the chunks wait for the next free one and join more.
                    if (this.running < COMPRESSIONS_AT_ONCE)
                        this.flush();
                });
            }
        });
    }

    /** Runs `job` now when a place is free, else when one frees up; never rejects (jobs settle their callers). */
    private start(job: () => Promise<void>): void {
        if (this.running >= COMPRESSIONS_AT_ONCE) {
            this.ready.push(job);
            return;
        }
        this.running++;
        void job().finally(() => {
            this.running--;
            const next = this.ready.shift();
            if (next)
                this.start(next);
            else if (this.waiting.length > 0 && !this.scheduled)
                this.flush();
        });
    }

    // Async, like compressBatch: a throw before liblz4's job starts still settles the caller and frees the place.
    private async compressOne(data: Buffer): Promise<Buffer> {
        const out = this.take(lz4CompressFrameBound(data.length, this.options));
        this.lent.set(out.buffer, { buffer: out, frames: 1 });
        try {
            return out.subarray(0, await lz4CompressFrameInto(data, out, this.options));
        } catch (err) {
            this.lent.delete(out.buffer);
            throw err;
        }
    }

    private flush(): void {
        const batch = this.waiting;
        this.waiting = [];
        this.bytes = 0;
        if (batch.length === 0)
            return;
        this.start(() => batch.length === 1
            ? this.compressOne(batch[0].data).then(batch[0].resolve, batch[0].reject)
            : this.compressBatch(batch));
    }

    /** Settles every caller of the batch, never rejects. */
    private async compressBatch(batch: Waiting[]): Promise<void> {
        let out: Buffer | undefined;
        try {
            let room = 0;
            for (const w of batch) room += lz4CompressFrameBound(w.data.length, this.options);
            out = this.take(room);
            this.lent.set(out.buffer, { buffer: out, frames: batch.length });
            const sizes = await lz4CompressFramesInto(batch.map(w => w.data), out, this.options);
            let at = 0;
            batch.forEach((w, i) => w.resolve(out!.subarray(at, at += sizes[i])));
        } catch (err) {
            if (out) this.lent.delete(out.buffer);
            batch.forEach(w => w.reject(err));
        }
    }
}
