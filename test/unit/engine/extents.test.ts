// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import {
    allocationToExtents, coversExactly, dataBytes, dirtyToExtents, entriesToRanges, maxStatusLength, mergeExtents, splitFixed,
} from "../../../helper/engine/extents.ts";

test("entriesToRanges walks pairs from the request offset and clips at the end", () => {
    const r = entriesToRanges(1000, [100, 0, 50, 3, 4096, 2], 1200);
    assert.deepEqual(r, [
        { offset: 1000, length: 100, flags: 0 },
        { offset: 1100, length: 50, flags: 3 },
        { offset: 1150, length: 50, flags: 2 },
    ]);
    assert.throws(() => entriesToRanges(0, [1, 0, 2]), /pairs/);
    assert.throws(() => entriesToRanges(0, [0, 0]), /length 0/);
});

test("base:allocation: only the ZERO flag makes a zero extent; neighbours merge", () => {
    const ranges = entriesToRanges(0, [10, 0, 10, 1, 10, 2, 10, 3, 10, 0]);
    assert.deepEqual(allocationToExtents(ranges), [
        { offset: 0, length: 20, data: true },
        { offset: 20, length: 20, data: false },
        { offset: 40, length: 10, data: true },
    ]);
});

test("dirty bitmap: dirty ranges become data, clean ones vanish", () => {
    const ranges = entriesToRanges(0, [10, 0, 10, 1, 5, 1, 10, 0, 1, 1]);
    assert.deepEqual(dirtyToExtents(ranges), [
        { offset: 10, length: 15, data: true },
        { offset: 35, length: 1, data: true },
    ]);
});

test("mergeExtents rejects overlap and drops empty extents", () => {
    assert.deepEqual(mergeExtents([{ offset: 0, length: 0, data: true }, { offset: 0, length: 5, data: false }]),
        [{ offset: 0, length: 5, data: false }]);
    assert.throws(() => mergeExtents([{ offset: 0, length: 10, data: true }, { offset: 5, length: 10, data: false }]), /overlap/);
});

test("coverage, data bytes, fixed splits, status request bound", () => {
    const ex = [{ offset: 0, length: 10, data: true }, { offset: 10, length: 6, data: false }];
    assert.equal(coversExactly(ex, 16), true);
    assert.equal(coversExactly(ex, 17), false);
    assert.equal(coversExactly([ex[1]], 6), false);
    assert.equal(dataBytes(ex), 10);
    assert.deepEqual(splitFixed({ offset: 100, length: 25, data: true }, 10),
        [{ offset: 100, length: 10 }, { offset: 110, length: 10 }, { offset: 120, length: 5 }]);
    assert.equal(maxStatusLength(512), 4294966784);
    assert.ok(maxStatusLength(65536) < 2 ** 32 && maxStatusLength(65536) % 65536 === 0);
});

test("planning a 800 GiB sparse disk with 100k extents is fast", () => {
    const entries: number[] = [];
    const n = 100_000;
    const piece = Math.floor(800 * 2 ** 30 / n);
    for (let i = 0; i < n; i++)
        entries.push(piece, i % 3 === 0 ? 0 : 3);
    const t0 = process.hrtime.bigint();
    const extents = allocationToExtents(entriesToRanges(0, entries));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.equal(extents.length, 66_667); // data, zero+zero, data, ...
    assert.equal(coversExactly(extents, piece * n), true);
    assert.ok(ms < 2000, `planning took ${ms} ms`);
});
