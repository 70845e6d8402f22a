// SPDX-License-Identifier: GPL-3.0-or-later
// The header scan's reads (WindowReader): the headers of a fragmented file (a 41-byte header every 64 KiB)
// come from wide windows that follow each other, so the file is read in order and each byte once; the
// headers of big frames cost one small read each; windows that covered the whole file give its adler32. The
// file is a fake (bytes made from their offset): only the reads are counted.
import { test } from "node:test";
import assert from "node:assert/strict";
import type fsp from "node:fs/promises";
import { adler32 } from "../../../helper/engine/adler32.ts";
import { WindowReader } from "../../../helper/engine/stream-source.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** The byte at `offset` of the fake file. */
const byteAt = (offset: number) => (offset * 7 + (offset >>> 12)) & 0xff;

/** A file of `size` bytes whose reads are recorded. */
function countingFile(size: number) {
    const reads: { position: number; length: number }[] = [];
    const fh = {
        async read(buffer: Buffer, offset: number, length: number, position: number) {
            const n = Math.max(0, Math.min(length, size - position));
            reads.push({ position, length: n });
            for (let i = 0; i < n; i++)
                buffer[offset + i] = byteAt(position + i);
            return { bytesRead: n, buffer };
        },
    } as unknown as fsp.FileHandle;
    const content = () => {
        const b = Buffer.allocUnsafe(size);
        for (let i = 0; i < size; i++)
            b[i] = byteAt(i);
        return b;
    };
    return { fh, reads, content };
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

test("windows that cover the file in order give its adler32, also after a read at its end first", async () => {
    const size = 8 * MiB + 12345;
    for (const trailerFirst of [false, true]) {
        const { fh, content } = countingFile(size);
        const data = content();
        const reader = new WindowReader(fh, size);
        if (trailerFirst)
            await reader.bytes(size - 3000, 2000);  // a compressed file's trailer is read before its frames
        // Headers 41 bytes long, 64 KiB + 41 apart, the last one's window reaching the end.
        for (let at = 0; at + 41 <= size; at += 64 * KiB + 41) {
            assert.equal(reader.wholeFileSum(), undefined);
            const got = await reader.bytes(at, 41);
            assert.ok(got.equals(data.subarray(at, at + 41)), `bytes at ${at}`);
        }
        await reader.bytes(size - 41, 41);
        assert.equal(reader.wholeFileSum(), adler32(data), trailerFirst ? "trailer first" : "in order");
    }
});

test("windows with a gap (big frames) give no sum", async () => {
    const size = 40 * MiB;
    const { fh } = countingFile(size);
    const reader = new WindowReader(fh, size);
    for (let at = 0; at < size; at += 4 * MiB)
        await reader.bytes(at, 41);
    await reader.bytes(size - 41, 41);
    assert.equal(reader.wholeFileSum(), undefined);
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
