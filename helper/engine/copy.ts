// SPDX-License-Identifier: GPL-3.0-or-later
// The copy strategy shared by backup and restore: extents -> requests in flight -> ordered writer.
// Reads (and the sink's transform, e.g. compression) run concurrently, up to a window; the sink
// sees every call in offset order. Knows no endpoint type.
import type { Chunk, Extent, Sink, Source } from "./endpoint.ts";
import { dataBytes } from "./extents.ts";
import { alignedBuffer } from "fileio-node";

export interface CopyProgress {
    /** Data bytes written so far. */
    done: number;
    /** Data bytes the copy will write in all. */
    total: number;
}

export interface CopyOptions {
    /** Largest single request. */
    maxChunk: number;
    /** Requests read or transformed but not yet written, at most. */
    maxInFlight: number;
    /** Bytes in those requests, at most (one request is always allowed). Default maxChunk * maxInFlight. */
    maxBytesInFlight?: number;
    signal?: AbortSignal;
    onProgress?: (progress: CopyProgress) => void;
    /**
     * Called once, on success, when every read has returned: the source is no longer needed (a backup can
     * end its libvirt job) while the last writes and the sink's finish still run.
     */
    onSourceDone?: () => void;
}

type Step =
    | { kind: "begin"; extent: Extent }
    | { kind: "chunk"; chunk: Chunk; result: Promise<Buffer>; buffer: Buffer }
    | { kind: "end"; extent: Extent }
    | { kind: "zero"; extent: Extent };

export class CopyAbortedError extends Error {
    constructor(reason?: unknown) {
        super(reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "the copy was cancelled");
        this.name = "CopyAbortedError";
    }
}

/**
 * Copies `extents` (sorted) from `source` to `sink`. On success the sink is finished; on any failure
 * or cancellation the sink is aborted after all started requests have settled, and the error rethrown.
 */
export async function copyExtents(extents: Extent[], source: Source, sink: Sink, options: CopyOptions): Promise<CopyProgress> {
    const { maxChunk, maxInFlight, signal, onProgress } = options;
    if (!(maxInFlight >= 1) || !(maxChunk >= 1))
        throw new Error("maxInFlight and maxChunk must be positive");
    const progress: CopyProgress = { done: 0, total: dataBytes(extents) };
    const free: Buffer[] = [];
    // Small chunks (small extents of an incremental) get small buffers: many of them may be in flight.
    const smallSize = Math.max(1, Math.floor(maxChunk / 4));
    const freeSmall: Buffer[] = [];
    // The smallest (a fragmented point's 64 KiB extents, 4 KiB blocks) get buffers their size class needs.
    const tinySize = Math.max(1, Math.floor(maxChunk / 16));
    const freeTiny: Buffer[] = [];
    // Chunks above maxChunk (a compressed extent below the server's request size is one frame, up to 32 MiB;
    // another tool's lz4 frames) get buffers in whole maxChunks, kept for the next such chunk up to the
    // in-flight limit: a new multi-MiB buffer each time costs page faults and waits for the GC to go.
    const freeLarge: Buffer[] = [];
    let largeKept = 0;
    const queue: Step[] = [];
    const steps = plan(extents, source, sink, maxChunk);
    const maxBytes = options.maxBytesInFlight ?? maxChunk * maxInFlight;
    let inFlight = 0;
    let bytesInFlight = 0;
    let pending: PlanStep | undefined;
    let exhausted = false;
    let readsRunning = 0;
    let sourceDone = false;
    const checkSourceDone = () => {
        if (!sourceDone && exhausted && readsRunning === 0 && !signal?.aborted) {
            sourceDone = true;
            options.onSourceDone?.();
        }
    };

    const takeLarge = (length: number): Buffer => {
        let best = -1;
        for (let i = 0; i < freeLarge.length; i++) {
            if (freeLarge[i]!.length >= length && (best < 0 || freeLarge[i]!.length < freeLarge[best]!.length))
                best = i;
        }
        if (best < 0)
            return alignedBuffer(Math.ceil(length / maxChunk) * maxChunk);
        const buffer = freeLarge.splice(best, 1)[0]!;
        largeKept -= buffer.length;
        return buffer;
    };
    const giveLarge = (buffer: Buffer): void => {
        // Kept up to the in-flight limit, the largest first dropped: that is all a copy may have in flight.
        freeLarge.push(buffer);
        largeKept += buffer.length;
        while (largeKept > maxBytes && freeLarge.length > 0) {
            freeLarge.sort((a, b) => a.length - b.length);
            largeKept -= freeLarge.pop()!.length;
        }
    };

    const startRead = (chunk: Chunk): Step => {
        // A source may dictate larger chunks (lz4 frames of another tool): those get a buffer of their own.
        // Aligned: a file source's reads from the page cache into a misaligned buffer cost several times the CPU.
        const buffer = chunk.length > maxChunk ? takeLarge(chunk.length)
            : chunk.length <= tinySize ? freeTiny.pop() ?? alignedBuffer(tinySize, 64)
            : chunk.length <= smallSize ? freeSmall.pop() ?? alignedBuffer(smallSize)
            : free.pop() ?? alignedBuffer(maxChunk);
        const view = buffer.subarray(0, chunk.length);
        readsRunning++;
        let result = source.read(chunk, view).then(data => {
            if (data.length !== chunk.length)
                throw new Error(`read ${data.length} bytes at offset ${chunk.offset}, expected ${chunk.length}`);
            readsRunning--;
            checkSourceDone();
            return data;
        });
        if (sink.transform) {
            const transform = sink.transform.bind(sink);
            result = result.then(data => transform(chunk, data));
        }
        // Awaited in order later; until then a rejection must not count as unhandled.
        result.catch(() => {});
        inFlight++;
        bytesInFlight += chunk.length;
        return { kind: "chunk", chunk, result, buffer };
    };

    const fill = () => {
        // Zero and boundary steps are cheap; the queue is bounded so a long run of them cannot grow it.
        while (!exhausted && inFlight < maxInFlight && queue.length < maxInFlight * 4) {
            if (!pending) {
                const next = steps.next();
                if (next.done) {
                    exhausted = true;
                    break;
                }
                pending = next.value;
            }
            const s = pending;
            if (s.kind === "read" && inFlight > 0 && bytesInFlight + s.chunk.length > maxBytes)
                break;
            pending = undefined;
            queue.push(s.kind === "read" ? startRead(s.chunk) : s);
        }
    };

    try {
        fill();
        checkSourceDone();
        while (queue.length > 0) {
            if (signal?.aborted)
                throw new CopyAbortedError(signal.reason);
            const step = queue.shift()!;
            switch (step.kind) {
            case "begin":
                await sink.beginData(step.extent);
                break;
            case "end":
                await sink.endData(step.extent);
                break;
            case "zero":
                await sink.writeZero(step.extent);
                break;
            case "chunk": {
                const data = await step.result;
                await sink.writeChunk(step.chunk, data);
                inFlight--;
                bytesInFlight -= step.chunk.length;
                if (step.buffer.length > maxChunk)
                    giveLarge(step.buffer);
                else if (step.buffer.length === maxChunk)
                    free.push(step.buffer);
                else if (step.buffer.length === smallSize)
                    freeSmall.push(step.buffer);
                else if (step.buffer.length === tinySize)
                    freeTiny.push(step.buffer);
                progress.done += step.chunk.length;
                onProgress?.({ ...progress });
                break;
            }
            }
            fill();
            checkSourceDone();
        }
        if (signal?.aborted)
            throw new CopyAbortedError(signal.reason);
        await sink.finish();
        return progress;
    } catch (err) {
        // Native requests may still be filling buffers: let every started one settle first.
        await Promise.allSettled(queue.map(s => s.kind === "chunk" ? s.result : undefined));
        await sink.abort();
        throw err;
    }
}

type PlanStep =
    | { kind: "begin"; extent: Extent }
    | { kind: "read"; chunk: Chunk }
    | { kind: "end"; extent: Extent }
    | { kind: "zero"; extent: Extent };

function* plan(extents: Extent[], source: Source, sink: Sink, maxChunk: number): Generator<PlanStep> {
    for (const extent of extents) {
        if (!extent.data) {
            yield { kind: "zero", extent };
            continue;
        }
        yield { kind: "begin", extent };
        for (const chunk of source.split(extent, sink.chunkSize?.(extent, maxChunk) ?? maxChunk)) {
            yield { kind: "read", chunk };
        }
        yield { kind: "end", extent };
    }
}
