// SPDX-License-Identifier: GPL-3.0-or-later
// The stream grammar on bytes in memory: no file, no binding.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FormatError, scanStream } from "../../../helper/format/index.ts";
import { knownExtents, knownMeta, knownStream } from "./known-stream.ts";

const fromBuffer = (buf: Buffer) => async (position: number, length: number) => buf.subarray(position, Math.min(position + length, buf.length));

test("scanStream reads the known stream's meta, extents and where each data payload lies", async () => {
    const layout = await scanStream("known", fromBuffer(knownStream), knownStream.length, 32 << 20);
    assert.deepEqual(layout.meta, knownMeta);
    assert.deepEqual(layout.extents, knownExtents);
    const payloads = layout.frames.pieces().map(p => knownStream.subarray(p.fileOffset, p.fileOffset + p.storedLength).toString("latin1"));
    assert.deepEqual(payloads, ["abcd", "wxyz"]);
});

test("scanStream names the file and offset of a cut stream", async () => {
    const cut = knownStream.subarray(0, knownStream.length - 10);
    await assert.rejects(scanStream("cut.data", fromBuffer(cut), cut.length, 32 << 20),
        (err: unknown) => err instanceof FormatError && err.message.includes("cut.data") && /stop frame/.test(err.message));
});
