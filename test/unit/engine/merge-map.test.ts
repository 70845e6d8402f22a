// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Extent } from "../../../helper/engine/endpoint.ts";
import { mergedExtents, mergeLayers, overlay, ZERO_LAYER } from "../../../helper/engine/merge-map.ts";

/** Per-byte reference: which layer's byte each position of the merged disk shows (-1 zero, -2 none). */
function paint(layers: Extent[][], size: number): number[] {
    const owner = new Array<number>(size).fill(-2);
    layers.forEach((extents, i) => {
        for (const e of extents) {
            if (i > 0 && !e.data)
                continue;
            for (let b = e.offset; b < e.offset + e.length; b++)
                owner[b] = e.data ? i : ZERO_LAYER;
        }
    });
    return owner;
}

/** Sorted, non-overlapping random extents in [0, size); `full` tiles the whole range with data and zero. */
function randomExtents(size: number, rand: () => number, full: boolean): Extent[] {
    const out: Extent[] = [];
    let pos = 0;
    while (pos < size) {
        const len = Math.min(size - pos, 1 + Math.floor(rand() * 12));
        const data = rand() < 0.5;
        if (full || data)
            out.push({ offset: pos, length: len, data: full ? data : true });
        pos += len + (full ? 0 : Math.floor(rand() * 6));
    }
    return out;
}

function lcg(seed: number): () => number {
    let s = seed;
    return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

test("merged map: the newest file wins byte for byte, a full's zero frames stay zero (200 random chains)", () => {
    for (let seed = 1; seed <= 200; seed++) {
        const rand = lcg(seed);
        const size = 20 + Math.floor(rand() * 120);
        const layers = [randomExtents(size, rand, true)];
        for (let i = 0, n = Math.floor(rand() * 6); i < n; i++)
            layers.push(randomExtents(size, rand, false));
        const pieces = mergeLayers(layers);
        const got = new Array<number>(size).fill(-2);
        for (const p of pieces)
            for (let b = p.offset; b < p.offset + p.length; b++) {
                assert.equal(got[b], -2, `seed ${seed}: byte ${b} in two pieces`);
                got[b] = p.layer;
            }
        assert.deepEqual(got, paint(layers, size), `seed ${seed}`);
        // The full's frames tile the disk; data exactly where a file has bytes.
        const extents = mergedExtents(pieces, size);
        let pos = 0;
        for (const e of extents) {
            assert.equal(e.offset, pos);
            for (let b = e.offset; b < e.offset + e.length; b++)
                assert.equal(e.data, got[b] >= 0, `seed ${seed}: byte ${b}`);
            pos += e.length;
        }
        assert.equal(pos, size);
    }
});

test("merged map of incrementals only: data frames, holes left out", () => {
    const pieces = mergeLayers([
        [{ offset: 10, length: 10, data: true }],
        [{ offset: 15, length: 10, data: true }, { offset: 40, length: 5, data: true }],
    ]);
    assert.deepEqual(pieces, [{ offset: 10, length: 5, layer: 0 }, { offset: 15, length: 10, layer: 1 }, { offset: 40, length: 5, layer: 1 }]);
    assert.deepEqual(mergedExtents(pieces), [{ offset: 10, length: 15, data: true }, { offset: 40, length: 5, data: true }]);
    // A full: the holes become zero frames.
    assert.deepEqual(mergedExtents(pieces, 50), [
        { offset: 0, length: 10, data: false }, { offset: 10, length: 15, data: true },
        { offset: 25, length: 15, data: false }, { offset: 40, length: 5, data: true }, { offset: 45, length: 5, data: false },
    ]);
    assert.throws(() => mergedExtents(pieces, 44), /past the disk size/);
});

test("overlay: a piece inside one below it cuts it in three; unsorted input is refused", () => {
    assert.deepEqual(overlay([{ offset: 0, length: 100, layer: 0 }], [{ offset: 40, length: 10, layer: 1 }]), [
        { offset: 0, length: 40, layer: 0 }, { offset: 40, length: 10, layer: 1 }, { offset: 50, length: 50, layer: 0 },
    ]);
    assert.throws(() => overlay([], [{ offset: 10, length: 5, layer: 1 }, { offset: 12, length: 5, layer: 1 }]), /overlap/);
});
