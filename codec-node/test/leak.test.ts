// SPDX-License-Identifier: GPL-3.0-or-later
// Memory: results are owned by their Buffers and freed with them. lz4-napi 2.10's compressFrame kept
// about the output size per call for good (~18 MiB per 32 MiB chunk here, ~950 MiB after 40 calls,
// measured with codec-node/bench/leak-compare.ts); this test fails on such behaviour by a wide margin.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lz4CompressFrame, lz4DecompressFrame } from "codec-node";
import { halfRandom, MiB, rssGrowth } from "./helpers.ts";

const STREAM = { level: 2, blockChecksum: true, contentChecksum: true };
const CHUNK = 32 * MiB;
const IN_FLIGHT = 4;
// Working set while calls run: each holds its input-sized output block, plus the V8 heap's noise.
const PEAK_LIMIT_MIB = IN_FLIGHT * 2 * CHUNK / MiB + 100;

test("200 compressions of 32 MiB keep RSS flat (GC after each)", async () => {
    const input = halfRandom(CHUNK);
    const compress = (data: Buffer) => lz4CompressFrame(data, STREAM);
    await rssGrowth(compress, input, 8, IN_FLIGHT, true); // warm-up: allocator, thread pool
    const growth = await rssGrowth(compress, input, 200, IN_FLIGHT, true);
    assert.ok(growth.afterMiB < 100, `RSS grew by ${growth.afterMiB.toFixed(0)} MiB over 200 calls`);
    assert.ok(growth.peakMiB < PEAK_LIMIT_MIB, `RSS peaked ${growth.peakMiB.toFixed(0)} MiB above the start`);
});

test("without forced GC, V8 counts the frames' memory and collects them in time", async () => {
    // What a backup does: nobody calls gc(); the external Buffers must be visible to V8's heuristics.
    const input = halfRandom(CHUNK);
    const compress = (data: Buffer) => lz4CompressFrame(data, STREAM);
    const growth = await rssGrowth(compress, input, 100, IN_FLIGHT, false);
    assert.ok(growth.peakMiB < 2 * PEAK_LIMIT_MIB, `RSS peaked ${growth.peakMiB.toFixed(0)} MiB above the start`);
    assert.ok(growth.afterMiB < 100, `RSS grew by ${growth.afterMiB.toFixed(0)} MiB`);
});

test("100 decompressions of 32 MiB keep RSS flat", async () => {
    const input = halfRandom(CHUNK);
    const frame = await lz4CompressFrame(input, STREAM);
    const decompress = () => lz4DecompressFrame(frame, CHUNK);
    await rssGrowth(decompress, input, 8, IN_FLIGHT, true);
    const growth = await rssGrowth(decompress, input, 100, IN_FLIGHT, true);
    assert.ok(growth.afterMiB < 100, `RSS grew by ${growth.afterMiB.toFixed(0)} MiB over 100 calls`);
});
