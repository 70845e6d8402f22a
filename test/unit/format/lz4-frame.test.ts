// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { lz4CompressFrameSync, lz4DecompressFrameSync } from "codec-node";
import { FormatError, parseLz4FrameHeader, xxh32Short } from "../../../helper/format/index.ts";

test("xxh32 reference values", () => {
    assert.equal(xxh32Short(Buffer.alloc(0)), 0x02cc5d05);
    assert.equal(xxh32Short(Buffer.from("a")), 0x550d7456);
    assert.equal(xxh32Short(Buffer.from("abc")), 0x32d153ff);
});

test("accepts the header Python's lz4.frame writes (content size, checksum over 10 bytes)", () => {
    // lz4.frame.compress(b"x" * 1000, content_checksum=True, block_checksum=True, compression_level=2)[:15]
    const header = Buffer.from("04224d187c40e8030000000000003d", "hex");
    assert.deepEqual(parseLz4FrameHeader(header), { headerLength: 15, contentSize: 1000 });
});

test("reads the content size of the frames StreamSink writes (liblz4 via codec-node)", () => {
    const data = Buffer.concat([crypto.randomBytes(100000), Buffer.alloc(200000, 7)]);
    const frame = lz4CompressFrameSync(data, { level: 2, blockChecksum: true, contentChecksum: true, contentSize: true });
    assert.deepEqual(parseLz4FrameHeader(frame), { headerLength: 15, contentSize: data.length });
    assert.deepEqual(lz4DecompressFrameSync(frame, data.length), data);
    // Without the size (as some other writers do) the header is 8 bytes shorter.
    const bare = lz4CompressFrameSync(data, { contentSize: false });
    assert.deepEqual(parseLz4FrameHeader(bare), { headerLength: 7, contentSize: undefined });
});

test("rejects what is not an lz4 frame header", () => {
    const frame = lz4CompressFrameSync(Buffer.from("hello"), { contentSize: true });
    const broken = Buffer.from(frame);
    broken[14] ^= 1;
    assert.throws(() => parseLz4FrameHeader(broken), /header checksum mismatch/);
    assert.throws(() => parseLz4FrameHeader(Buffer.from("data 000")), (e: unknown) => e instanceof FormatError && /no lz4 frame here/.test(e.message));
    assert.throws(() => parseLz4FrameHeader(frame.subarray(0, 9)), /truncated \(9 of 15 bytes\)/);
});
