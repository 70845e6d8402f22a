// SPDX-License-Identifier: GPL-3.0-or-later
// NbdSink's own logic with an in-memory NBD writer (the real server path is in test/realstack/restore-*):
// zero requests only where older data may lie, request splitting, errors surfacing, flush at the end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyExtents } from "../../../helper/engine/copy.ts";
import type { Extent } from "../../../helper/engine/endpoint.ts";
import { NbdSink, type NbdWriter } from "../../../helper/engine/nbd-sink.ts";
import { memorySource } from "../../lib/memory-source.ts";

function memoryTarget(size: number, opts: { failZeroAt?: number } = {}) {
    const image = Buffer.alloc(size, 0xee);
    const log: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const writer: NbdWriter = {
        async pwrite(buf, offset) {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            await new Promise(resolve => setTimeout(resolve, 2));
            Buffer.from(buf).copy(image, offset);
            log.push(`write ${offset}+${buf.length}`);
            inFlight--;
        },
        async zero(length, offset) {
            if (opts.failZeroAt === offset)
                throw new Error("EIO");
            image.fill(0, offset, offset + length);
            log.push(`zero ${offset}+${length}`);
        },
        async flush() {
            log.push("flush");
        },
    };
    return { writer, image, log, maxInFlight: () => maxInFlight };
}

const size = 64;
const data = Buffer.from(Array.from({ length: size }, (_, i) => i + 1));
const extents: Extent[] = [
    { offset: 0, length: 20, data: true },
    { offset: 20, length: 12, data: false },
    { offset: 32, length: 32, data: true },
];

test("over a fresh image zero extents cost nothing; writes go out concurrently and end with a flush", async () => {
    const t = memoryTarget(size);
    const sink = new NbdSink(t.writer, { zeroExisting: false, size, maxRequest: 6 });
    await copyExtents(extents, memorySource(data), sink, { maxChunk: 8, maxInFlight: 4 });
    assert.ok(!t.log.some(l => l.startsWith("zero")), t.log.join(", "));
    assert.equal(t.log.at(-1), "flush");
    assert.ok(t.maxInFlight() > 1, "writes in flight at once");
    // every request respects the server's maximum
    assert.ok(t.log.filter(l => l.startsWith("write")).every(l => Number(l.split("+")[1]) <= 6));
    assert.deepEqual(t.image.subarray(0, 20), data.subarray(0, 20));
    assert.deepEqual(t.image.subarray(32), data.subarray(32));
    assert.equal(sink.stats.written, 52);
});

test("over older content zero extents become zero requests", async () => {
    const t = memoryTarget(size);
    const sink = new NbdSink(t.writer, { zeroExisting: true, size, flush: false });
    await copyExtents(extents, memorySource(data), sink, { maxChunk: 8, maxInFlight: 4 });
    assert.ok(t.log.includes("zero 20+12"));
    assert.ok(!t.log.includes("flush"));
    assert.deepEqual(t.image.subarray(20, 32), Buffer.alloc(12));
});

test("a failed zero request fails the copy", async () => {
    const t = memoryTarget(size, { failZeroAt: 20 });
    const sink = new NbdSink(t.writer, { zeroExisting: true, size });
    await assert.rejects(copyExtents(extents, memorySource(data), sink, { maxChunk: 8, maxInFlight: 4 }), /NBD zero of 12 bytes at offset 20 failed: EIO/);
});

test("writes beyond the target are refused", async () => {
    const t = memoryTarget(32);
    const sink = new NbdSink(t.writer, { zeroExisting: false, size: 32 });
    await assert.rejects(copyExtents(extents, memorySource(data), sink, { maxChunk: 8, maxInFlight: 4 }), /exceeds the target size 32/);
});
