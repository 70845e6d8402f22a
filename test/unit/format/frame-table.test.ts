// SPDX-License-Identifier: GPL-3.0-or-later
// The data frames' columns (format/frame-table.ts): built frame by frame past the builder's first sizes, read
// back exactly, found by disk offset.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FrameTableBuilder, type StoredPiece } from "../../../helper/format/frame-table.ts";

const GiB = 2 ** 30;

test("1,000 frames (every third of three lz4 pieces), at offsets past 4 GiB, read back exactly", () => {
    const b = new FrameTableBuilder();
    const expected: { offset: number; length: number; pieces: StoredPiece[] }[] = [];
    let fileOffset = 1000;
    for (let i = 0; i < 1000; i++) {
        const offset = 5 * GiB + i * 1024 * 1024;
        const count = i % 3 === 0 ? 3 : 1;
        const pieces: StoredPiece[] = [];
        for (let k = 0; k < count; k++) {
            pieces.push({ offset: offset + k * 4096, length: 4096 + (i === 500 && k === 0 ? 8192 : 0), fileOffset, storedLength: 100 + k });
            fileOffset += 100 + k;
        }
        b.add(offset, count * 4096, pieces);
        expected.push({ offset, length: count * 4096, pieces });
    }
    const t = b.build();
    assert.equal(t.frameCount, 1000);
    assert.equal(t.pieceCount, expected.reduce((n, f) => n + f.pieces.length, 0));
    for (const [i, f] of expected.entries()) {
        assert.equal(t.frameStart(i), f.offset);
        assert.equal(t.frameEnd(i), f.offset + f.length);
        const { first, end } = t.piecesOf(i);
        assert.deepEqual(Array.from({ length: end - first }, (_, k) => t.piece(first + k)), f.pieces);
    }
    assert.deepEqual(t.pieces(), expected.flatMap(f => f.pieces));
    assert.equal(t.largestPiece(), 4096 + 8192);
});

test("frameIndexAt: the last frame starting at or before the offset, -1 before the first", () => {
    const b = new FrameTableBuilder();
    for (const offset of [4096, 65536, 8 * GiB])
        b.add(offset, 4096, [{ offset, length: 4096, fileOffset: 0, storedLength: 4096 }]);
    const t = b.build();
    assert.deepEqual([0, 4095, 4096, 8191, 65535, 65536, 8 * GiB - 1, 8 * GiB, 9 * GiB].map(o => t.frameIndexAt(o)), [-1, -1, 0, 0, 0, 1, 1, 2, 2]);
    assert.equal(new FrameTableBuilder().build().frameIndexAt(0), -1);
    assert.equal(new FrameTableBuilder().build().largestPiece(), 0);
});
