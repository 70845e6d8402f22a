// SPDX-License-Identifier: GPL-3.0-or-later
// The header scan's reads (WindowReader): the headers of a fragmented file (a 41-byte header every 64 KiB)
// come from wide windows that follow each other, so the file is read in order and each byte once; the
// headers of big frames cost one small read each. The file is a fake: only the reads are counted.
import { test } from "node:test";
import assert from "node:assert/strict";
import type fsp from "node:fs/promises";
import { WindowReader } from "../../../helper/engine/stream-source.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** A file of `size` bytes whose reads are recorded. */
function countingFile(size: number) {
    const reads: { position: number; length: number }[] = [];
    const fh = {
        async read(buffer: Buffer, offset: number, length: number, position: number) {
            const n = Math.max(0, Math.min(length, size - position));
            reads.push({ position, length: n });
            buffer.fill(0x61, offset, offset + n);
            return { bytesRead: n, buffer };
        },
    } as unknown as fsp.FileHandle;
    return { fh, reads };
}

test("a header every 64 KiB: windows of 1 MiB one after the other, every byte read once", async () => {
    const size = 64 * MiB;
    const { fh, reads } = countingFile(size);
    const reader = new WindowReader(fh, size);
    for (let at = 0; at + 41 <= size; at += 64 * KiB)
        assert.equal((await reader.bytes(at, 41)).length, 41);
    const total = reads.reduce((sum, r) => sum + r.length, 0);
    assert.ok(total <= size + 16 * KiB, `read ${total} bytes of ${size}`);
    assert.ok(reads.length <= size / MiB + 2, `${reads.length} reads`);
    for (let i = 1; i < reads.length; i++)
        assert.ok(reads[i].position >= reads[i - 1].position + reads[i - 1].length - 64 * KiB, `read ${i} goes back`);
});

test("a header every 32 MiB: one small read per header, not a wide window", async () => {
    const size = 320 * MiB;
    const { fh, reads } = countingFile(size);
    const reader = new WindowReader(fh, size);
    for (let at = 0; at < size; at += 32 * MiB)
        await reader.bytes(at, 41);
    assert.equal(reads.length, 10);
    assert.ok(reads.every(r => r.length <= 8 * KiB));
});
