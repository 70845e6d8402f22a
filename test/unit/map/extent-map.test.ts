// SPDX-License-Identifier: GPL-3.0-or-later
// The merge of a chain's files for a mapping: newest file wins, zero frames and ranges no file holds
// read as zeroes; checked on hand-made cases and against a byte-by-byte model of random chains.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mergeLayers, overlay, zeroExtent, type MapExtent } from "../../../helper/map/extent-map.ts";
import { decodeMapIndex, encodeMapIndex } from "../../../helper/map/index-file.ts";

/** A plain frame of `file` holding [offset, offset+length), stored at 1000*file + offset. */
const frame = (file: number, offset: number, length: number): MapExtent => ({
    offset, length, file, fileOffset: 1000 * file + offset, storedLength: length, frameOffset: offset, frameLength: length,
});

const spans = (extents: MapExtent[]) => extents.map(e => [e.offset, e.length, e.file]);

test("a newer file wins where it holds data; the older file shows around it, windows of the same frame", () => {
    const merged = mergeLayers(100, [[frame(0, 0, 60)], [frame(1, 20, 10)]]);
    assert.deepEqual(spans(merged), [[0, 20, 0], [20, 10, 1], [30, 30, 0], [60, 40, null]]);
    // The older frame is cut into windows; each still names the whole frame.
    assert.deepEqual(merged[2], { ...frame(0, 0, 60), offset: 30, length: 30 });
});

test("a full's zero frames hide older data, and neighbouring zero ranges become one", () => {
    const merged = mergeLayers(100, [[frame(0, 0, 100)], [zeroExtent(0, 40), frame(1, 40, 10), zeroExtent(50, 50)]]);
    assert.deepEqual(spans(merged), [[0, 40, null], [40, 10, 1], [50, 50, null]]);
    assert.deepEqual(spans(mergeLayers(10, [[zeroExtent(0, 5)], []])), [[0, 10, null]]);
});

test("an empty chain reads as zeroes; a newer range spanning several older ones replaces them all", () => {
    assert.deepEqual(spans(mergeLayers(8, [[], []])), [[0, 8, null]]);
    const merged = overlay([frame(2, 5, 30)], [frame(0, 0, 10), frame(0, 12, 3), frame(0, 20, 20)]);
    assert.deepEqual(spans(merged), [[0, 5, 0], [5, 30, 2], [35, 5, 0]]);
});

test("overlapping or out-of-disk layers are refused", () => {
    assert.throws(() => mergeLayers(100, [[frame(0, 0, 50), frame(0, 40, 20)]]), /overlaps/);
    assert.throws(() => mergeLayers(100, [[frame(0, 90, 20)]]), /exceeds the disk size/);
});

/** A random layer: sorted, disjoint ranges in [0, size), some of them zero frames. */
function randomLayer(file: number, size: number, rand: () => number): MapExtent[] {
    const out: MapExtent[] = [];
    for (let pos = Math.floor(rand() * 8); pos < size;) {
        const length = 1 + Math.floor(rand() * 12);
        if (pos + length > size)
            break;
        out.push(rand() < 0.2 ? zeroExtent(pos, length) : frame(file, pos, length));
        pos += length + Math.floor(rand() * 10);
    }
    return out;
}

test("random chains: every byte comes from the newest file that holds it, at the right file offset", () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 300; round++) {
        const size = 1 + Math.floor(rand() * 120);
        const layers = Array.from({ length: 1 + Math.floor(rand() * 5) }, (_, i) => randomLayer(i, size, rand));
        // The model: per byte, the file offset it is read from (-1: zeroes).
        const model = new Array<number>(size).fill(-1);
        for (const layer of layers)
            for (const e of layer)
                for (let b = e.offset; b < e.offset + e.length; b++)
                    model[b] = e.file === null ? -1 : e.fileOffset + (b - e.frameOffset);
        const merged = mergeLayers(size, layers);
        const got = new Array<number>(size).fill(-2);
        let pos = 0;
        for (const e of merged) {
            assert.equal(e.offset, pos, "extents cover the disk in order");
            assert.ok(e.length > 0);
            assert.ok(e.offset >= e.frameOffset && e.offset + e.length <= e.frameOffset + e.frameLength, "window inside its frame");
            for (let b = e.offset; b < e.offset + e.length; b++)
                got[b] = e.file === null ? -1 : e.fileOffset + (b - e.frameOffset);
            pos += e.length;
        }
        assert.equal(pos, size);
        assert.deepEqual(got, model, `round ${round}`);
        for (let i = 1; i < merged.length; i++)
            assert.ok(merged[i - 1].file !== null || merged[i].file !== null, "no two zero ranges side by side");
    }
});

test("the index file holds what the plugin reads: header, files with their identity, extents", () => {
    const index = {
        diskSize: 100,
        files: [
            { path: "/b/vda.full.data", lz4: false, size: 5000n, mtimeNs: 1_700_000_000_123_456_789n, dev: 2049n, ino: 77n },
            { path: "/b/vda.inc.virtnbdbackup.1.data", lz4: true, size: 300n, mtimeNs: 5n, dev: 2049n, ino: 78n },
        ],
        extents: mergeLayers(100, [[frame(0, 0, 60)], [{ ...frame(1, 10, 20), storedLength: 7 }]]),
    };
    const buf = encodeMapIndex(index);
    assert.equal(buf.toString("latin1", 0, 8), "VNBDMAP1");
    assert.equal(buf.readBigUInt64LE(32) % 8n, 0n, "tables aligned");
    assert.deepEqual(decodeMapIndex(buf), index);
});
