// SPDX-License-Identifier: GPL-3.0-or-later
// Writes a stream's extents to an NBD export (qemu-nbd serving the restore image) with many requests in
// flight. NBD needs no ordering between requests on disjoint ranges, so each chunk is written as soon as
// it is read: in `transform`, which the copy pipeline runs concurrently within its window. The chunk's
// buffer stays with the pipeline until the write completed (no copy), and writeChunk, called in order
// afterwards, has nothing left to do. Zero requests go out from writeZero without waiting, bounded.
import type { Chunk, Extent, Sink } from "./endpoint.ts";

/** The part of a libnbd-node Handle the sink uses. */
export interface NbdWriter {
    pwrite(buffer: Uint8Array, offset: number, flags?: number): Promise<void>;
    zero(length: number, offset: number, flags?: number): Promise<void>;
    flush(flags?: number): Promise<void>;
}

export interface NbdSinkOptions {
    /**
     * The target may hold data where this stream has zero extents (an incremental's zero frames, a full
     * applied over earlier content): those ranges get NBD zero requests. False for a fresh image, which
     * reads as zeroes already and stays thin.
     */
    zeroExisting: boolean;
    /** Size of the export: every write is checked against it. */
    size: number;
    /** Largest request the server takes; longer chunks are split. Default 32 MiB (QEMU's limit). */
    maxRequest?: number;
    /** Zero requests in flight at most; default 16. */
    maxZerosInFlight?: number;
    /** Flush the export in finish(); default true. */
    flush?: boolean;
}

const DEFAULT_MAX_REQUEST = 32 * 1024 * 1024;
/** Zero requests are cut at this length: NBD lengths are 32-bit. */
const MAX_ZERO_REQUEST = 1024 * 1024 * 1024;

type State = "open" | "finished" | "aborted";

export class NbdSink implements Sink {
    private state: State = "open";
    private readonly pending = new Set<Promise<void>>();
    private failure: Error | undefined;
    private readonly maxRequest: number;
    /** Bytes written and zeroed, for reports. */
    readonly stats = { written: 0, zeroed: 0, writeRequests: 0, zeroRequests: 0 };

    constructor(private readonly target: NbdWriter, private readonly options: NbdSinkOptions) {
        this.maxRequest = options.maxRequest && options.maxRequest > 0 ? options.maxRequest : DEFAULT_MAX_REQUEST;
    }

    /** Writes the chunk now (out of order is fine for NBD); resolves with the data once it is written. */
    async transform(chunk: Chunk, data: Buffer): Promise<Buffer> {
        this.checkOpen();
        this.checkRange(chunk.offset, chunk.length, "data");
        if (data.length !== chunk.length)
            throw new Error(`chunk at ${chunk.offset}: got ${data.length} bytes, expected ${chunk.length}`);
        const writes: Promise<void>[] = [];
        for (let at = 0; at < data.length; at += this.maxRequest) {
            const piece = data.subarray(at, Math.min(data.length, at + this.maxRequest));
            writes.push(this.target.pwrite(piece, chunk.offset + at));
            this.stats.writeRequests++;
        }
        try {
            await Promise.all(writes);
        } catch (err) {
            // Let the other pieces settle before the buffer goes back to the pipeline.
            await Promise.allSettled(writes);
            throw new Error(`NBD write of ${chunk.length} bytes at offset ${chunk.offset} failed: ${(err as Error).message}`);
        }
        this.stats.written += data.length;
        return data;
    }

    beginData(): void {}

    /** Already written in transform(); only surfaces an earlier zero request's failure. */
    async writeChunk(): Promise<void> {
        this.checkOpen();
    }

    endData(): void {}

    async writeZero(extent: Extent): Promise<void> {
        this.checkOpen();
        this.checkRange(extent.offset, extent.length, "zero");
        if (!this.options.zeroExisting)
            return;
        const max = this.options.maxZerosInFlight ?? 16;
        for (let at = extent.offset, end = extent.offset + extent.length; at < end; at += MAX_ZERO_REQUEST) {
            while (this.pending.size >= max)
                await Promise.race(this.pending);
            this.checkOpen();
            const length = Math.min(MAX_ZERO_REQUEST, end - at);
            const offset = at;
            // No NO_HOLE flag: the server may punch holes (discard=unmap), which keeps the image thin.
            const request = this.target.zero(length, offset).then(() => {
                this.stats.zeroed += length;
            }, (err: Error) => {
                this.failure ??= new Error(`NBD zero of ${length} bytes at offset ${offset} failed: ${err.message}`);
            }).finally(() => {
                this.pending.delete(request);
            });
            this.pending.add(request);
            this.stats.zeroRequests++;
        }
    }

    /** Waits for every zero request, then flushes. */
    async finish(): Promise<void> {
        this.checkOpen();
        await Promise.all(this.pending);
        this.checkOpen();
        if (this.options.flush ?? true)
            await this.target.flush();
        this.state = "finished";
    }

    /** Lets outstanding requests settle; the owner of the image removes it. Never throws. */
    async abort(): Promise<void> {
        if (this.state !== "open")
            return;
        this.state = "aborted";
        await Promise.allSettled(this.pending);
    }

    private checkOpen(): void {
        if (this.failure)
            throw this.failure;
        if (this.state !== "open")
            throw new Error(`NBD sink is ${this.state}`);
    }

    private checkRange(offset: number, length: number, what: string): void {
        if (offset < 0 || length < 0 || offset + length > this.options.size)
            throw new Error(`${what} range ${offset}+${length} exceeds the target size ${this.options.size}`);
    }
}
