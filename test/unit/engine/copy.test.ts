// SPDX-License-Identifier: GPL-3.0-or-later
// The copy strategy with in-memory endpoints: ordering, window bounds, errors and cancellation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyExtents, CopyAbortedError } from "../../../helper/engine/copy.ts";
import type { Chunk, Extent, Sink, Source } from "../../../helper/engine/endpoint.ts";
import { splitFixed } from "../../../helper/engine/extents.ts";

function memorySource(data: Buffer, opts: { delay?: (c: Chunk) => number; failAt?: number } = {}) {
    const stats = { inFlight: 0, maxInFlight: 0, reads: 0 };
    const source: Source = {
        size: data.length,
        split: (e, max) => splitFixed(e, max),
        async read(chunk, buf) {
            stats.reads++;
            stats.inFlight++;
            stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
            await new Promise(resolve => setTimeout(resolve, opts.delay?.(chunk) ?? 0));
            stats.inFlight--;
            if (opts.failAt === chunk.offset)
                throw new Error(`read failed at ${chunk.offset}`);
            data.copy(buf, 0, chunk.offset, chunk.offset + chunk.length);
            return buf;
        },
        async close() {},
    };
    return { source, stats };
}

function recordingSink() {
    const log: string[] = [];
    let image = Buffer.alloc(0);
    const state = { finished: false, aborted: false };
    const sink: Sink = {
        beginData: e => { log.push(`begin ${e.offset}+${e.length}`) },
        async writeChunk(c, d) {
            log.push(`chunk ${c.offset}+${c.length}`);
            if (image.length < c.offset + c.length)
                image = Buffer.concat([image, Buffer.alloc(c.offset + c.length - image.length)]);
            d.copy(image, c.offset);
        },
        endData: e => { log.push(`end ${e.offset}`) },
        async writeZero(e) { log.push(`zero ${e.offset}+${e.length}`) },
        async finish() { state.finished = true },
        async abort() { state.aborted = true },
    };
    return { sink, log, state, image: () => image };
}

const extents: Extent[] = [
    { offset: 0, length: 25, data: true },
    { offset: 25, length: 7, data: false },
    { offset: 32, length: 40, data: true },
];
const payload = Buffer.from(Array.from({ length: 72 }, (_, i) => (i * 7 + 3) & 255));

test("chunks arrive at the sink in offset order even when reads finish out of order", async () => {
    // Later chunks finish first.
    const { source, stats } = memorySource(payload, { delay: c => 30 - c.offset / 3 });
    const { sink, log, state, image } = recordingSink();
    const progress: number[] = [];
    const result = await copyExtents(extents, source, sink, { maxChunk: 10, maxInFlight: 4, onProgress: p => progress.push(p.done) });
    assert.deepEqual(log, [
        "begin 0+25", "chunk 0+10", "chunk 10+10", "chunk 20+5", "end 0",
        "zero 25+7",
        "begin 32+40", "chunk 32+10", "chunk 42+10", "chunk 52+10", "chunk 62+10", "end 32",
    ]);
    assert.equal(state.finished, true);
    assert.equal(result.done, 65);
    assert.equal(result.total, 65);
    assert.deepEqual(progress, [10, 20, 25, 35, 45, 55, 65]);
    assert.ok(stats.maxInFlight > 1 && stats.maxInFlight <= 4, `max in flight ${stats.maxInFlight}`);
    assert.deepEqual(image().subarray(0, 25), payload.subarray(0, 25));
    assert.deepEqual(image().subarray(32, 72), payload.subarray(32, 72));
});

test("the byte budget holds the window smaller than the request count", async () => {
    const { source, stats } = memorySource(payload, { delay: () => 5 });
    const { sink } = recordingSink();
    await copyExtents(extents, source, sink, { maxChunk: 10, maxInFlight: 8, maxBytesInFlight: 20 });
    assert.equal(stats.maxInFlight, 2);
});

test("many small extents: the window fills by count, small and big buffers are reused, every byte lands right", async () => {
    // Small extents (a fragmented inc) mixed with bigger ones; reads finish in a scrambled order.
    const lengths = [4, 16, 9, 40, 64, 1, 17, 130];
    const many: Extent[] = [];
    let at = 0;
    for (let i = 0; i < 200; i++) {
        const length = lengths[i % lengths.length]!;
        many.push({ offset: at, length, data: true });
        at += length;
        many.push({ offset: at, length: 3, data: false });
        at += 3;
    }
    const data = Buffer.from(Array.from({ length: at }, (_, i) => (i * 31 + 7) & 255));
    const { source, stats } = memorySource(data, { delay: c => (c.offset * 7) % 5 });
    const { sink, image } = recordingSink();
    await copyExtents(many, source, sink, { maxChunk: 64, maxInFlight: 16, maxBytesInFlight: 8 * 64 });
    for (const e of many)
        if (e.data) assert.deepEqual(image().subarray(e.offset, e.offset + e.length), data.subarray(e.offset, e.offset + e.length), `extent at ${e.offset}`);
    assert.equal(stats.maxInFlight, 16);
});

test("a failed read aborts the sink and rethrows, after in-flight reads settle", async () => {
    const { source, stats } = memorySource(payload, { failAt: 42, delay: () => 5 });
    const { sink, state, log } = recordingSink();
    await assert.rejects(copyExtents(extents, source, sink, { maxChunk: 10, maxInFlight: 4 }), /read failed at 42/);
    assert.equal(state.aborted, true);
    assert.equal(state.finished, false);
    assert.equal(stats.inFlight, 0);
    assert.ok(!log.includes("end 32"));
});

test("cancellation through the signal aborts the sink", async () => {
    const controller = new AbortController();
    const { source } = memorySource(payload, { delay: () => 5 });
    const { sink, state } = recordingSink();
    const origWrite = sink.writeChunk.bind(sink);
    sink.writeChunk = async (c, d) => {
        await origWrite(c, d);
        controller.abort();
    };
    await assert.rejects(copyExtents(extents, source, sink, { maxChunk: 10, maxInFlight: 2, signal: controller.signal }), CopyAbortedError);
    assert.equal(state.aborted, true);
    assert.equal(state.finished, false);
});

test("a transform runs on every chunk before the ordered write", async () => {
    const { source } = memorySource(payload);
    const { sink, image } = recordingSink();
    sink.transform = async (_c, d) => Buffer.from(d.map(b => b ^ 0xff));
    await copyExtents(extents, source, sink, { maxChunk: 16, maxInFlight: 3 });
    assert.equal(image()[0], payload[0] ^ 0xff);
    assert.equal(image()[71], payload[71] ^ 0xff);
});

test("a short read is an error, not a silent hole", async () => {
    const { source } = memorySource(payload);
    source.read = async (c, buf) => buf.subarray(0, c.length - 1);
    const { sink, state } = recordingSink();
    await assert.rejects(copyExtents(extents, source, sink, { maxChunk: 10, maxInFlight: 2 }), /read 9 bytes at offset 0, expected 10/);
    assert.equal(state.aborted, true);
});

test("onSourceDone fires once, after the last read and before the sink finishes; never on failure", async () => {
    const { source, stats } = memorySource(payload, { delay: c => c.offset });
    const { sink, state } = recordingSink();
    const slowWrites: Sink = { ...sink, async writeChunk(c, d) { await new Promise(r => setTimeout(r, 5)); return sink.writeChunk(c, d); } };
    const seen: { reads: number; finished: boolean }[] = [];
    await copyExtents(extents, source, slowWrites, { maxChunk: 8, maxInFlight: 4, onSourceDone: () => seen.push({ reads: stats.reads, finished: state.finished }) });
    assert.equal(seen.length, 1);
    assert.equal(seen[0].reads, stats.reads, "every read had started");
    assert.equal(stats.inFlight, 0);
    assert.equal(seen[0].finished, false, "the sink was not finished yet");

    const failing = memorySource(payload, { failAt: 64 });
    let called = 0;
    await assert.rejects(copyExtents(extents, failing.source, recordingSink().sink, { maxChunk: 8, maxInFlight: 4, onSourceDone: () => called++ }));
    assert.equal(called, 0);
});
