// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import {
    allocationToExtents, appendStatusExtents, coversExactly, dataBytes, dirtyToExtents, maxStatusLength, mergeExtents, splitFixed,
    type StatusKind, type StatusRange,
} from "../../../helper/engine/extents.ts";
import type { Extent } from "../../../helper/engine/endpoint.ts";

/** Pure helper: block status entries (length, flags pairs from `offset`) as ranges. */
function ranges(offset: number, entries: number[]): StatusRange[] {
    const out: StatusRange[] = [];
    for (let i = 0; i < entries.length; i += 2) {
        out.push({ offset, length: entries[i]!, flags: entries[i + 1]! });
        offset += entries[i]!;
    }
    return out;
}

/** The extents of one block status answer. */
function fromEntries(offset: number, entries: number[], kind: StatusKind, end = Infinity): Extent[] {
    const out: Extent[] = [];
    appendStatusExtents(out, offset, entries, end, kind);
    return out;
}

test("base:allocation: only the ZERO flag makes a zero extent; neighbours merge", () => {
    const entries = [10, 0, 10, 1, 10, 2, 10, 3, 10, 0];
    const expected = [
        { offset: 0, length: 20, data: true },
        { offset: 20, length: 20, data: false },
        { offset: 40, length: 10, data: true },
    ];
    assert.deepEqual(allocationToExtents(ranges(0, entries)), expected);
    assert.deepEqual(fromEntries(0, entries, "allocation"), expected);
});

test("dirty bitmap: dirty ranges become data, clean ones vanish", () => {
    const entries = [10, 0, 10, 1, 5, 1, 10, 0, 1, 1];
    const expected = [
        { offset: 10, length: 15, data: true },
        { offset: 35, length: 1, data: true },
    ];
    assert.deepEqual(dirtyToExtents(ranges(0, entries)), expected);
    assert.deepEqual(fromEntries(0, entries, "dirty"), expected);
});

test("block status entries: from the request offset, clipped at the end, answers continued and joined", () => {
    assert.deepEqual(fromEntries(1000, [100, 0, 50, 3, 4096, 2], "allocation", 1200), [
        { offset: 1000, length: 100, data: true },
        { offset: 1100, length: 100, data: false },
    ]);
    // Two answers (two requests): the second goes on where the first ended; touching extents of one kind join.
    const out: Extent[] = [];
    const end = 1 << 30;
    const next = appendStatusExtents(out, 0, [100, 0, 20, 1], end, "dirty");
    assert.equal(next, 120, "where the entries ended");
    assert.equal(appendStatusExtents(out, next, [30, 1, 10, 0, 5, 1], end, "dirty"), 165);
    assert.deepEqual(out, [{ offset: 100, length: 50, data: true }, { offset: 160, length: 5, data: true }]);
    assert.throws(() => appendStatusExtents(out, 100, [10, 1], end, "dirty"), /overlap/, "an answer before the last extent's end");
    assert.throws(() => fromEntries(0, [1, 0, 2], "dirty"), /pairs/);
    assert.throws(() => fromEntries(0, [0, 0], "dirty"), /length 0/);
});

test("entries and ranges make the same extents on a random status list", () => {
    let seed = 12345;
    const random = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    for (let round = 0; round < 50; round++) {
        const entries: number[] = [];
        for (let i = 0; i < 200; i++)
            entries.push(1 + random(3) * 512, random(4));
        const start = random(2) * 4096;
        for (const kind of ["allocation", "dirty"] as const) {
            const byRanges = (kind === "dirty" ? dirtyToExtents : allocationToExtents)(ranges(start, entries));
            assert.deepEqual(fromEntries(start, entries, kind), byRanges, `round ${round}, ${kind}`);
        }
    }
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
    const extents = fromEntries(0, entries, "allocation");
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.equal(extents.length, 66_667); // data, zero+zero, data, ...
    assert.equal(coversExactly(extents, piece * n), true);
    assert.ok(ms < 2000, `planning took ${ms} ms`);
});
