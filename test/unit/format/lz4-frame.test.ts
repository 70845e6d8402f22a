import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { compressFrameSync, decompressFrameSync } from "lz4-napi";
import { FormatError, parseLz4FrameHeader, withContentSize, xxh32Short } from "../../../helper/format/index.ts";

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

test("records the content size in an lz4-napi frame, which still decodes", () => {
    const data = Buffer.concat([crypto.randomBytes(100000), Buffer.alloc(200000, 7)]);
    const frame = compressFrameSync(data, { contentChecksum: true, blockChecksums: true });
    assert.equal(parseLz4FrameHeader(frame).contentSize, undefined);
    const sized = withContentSize(frame, data.length);
    assert.equal(sized.length, frame.length + 8);
    assert.deepEqual(parseLz4FrameHeader(sized), { headerLength: 15, contentSize: data.length });
    assert.deepEqual(decompressFrameSync(sized), data);
    assert.equal(withContentSize(sized, data.length), sized);
    assert.throws(() => withContentSize(sized, data.length + 1), /records content size 300000, expected 300001/);
});

test("rejects what is not an lz4 frame header", () => {
    const frame = withContentSize(compressFrameSync(Buffer.from("hello"), {}), 5);
    const broken = Buffer.from(frame);
    broken[14] ^= 1;
    assert.throws(() => parseLz4FrameHeader(broken), /header checksum mismatch/);
    assert.throws(() => parseLz4FrameHeader(Buffer.from("data 000")), (e: unknown) => e instanceof FormatError && /no lz4 frame here/.test(e.message));
    assert.throws(() => parseLz4FrameHeader(frame.subarray(0, 9)), /truncated \(9 of 15 bytes\)/);
});
