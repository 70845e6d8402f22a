// SPDX-License-Identifier: GPL-3.0-or-later
// lz4 frames: round trips, both directions with Python's lz4.frame (what virtnbdbackup uses), and the
// errors a damaged frame, a wrong size or trailing bytes must raise.
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import {
    lz4CompressFrame, lz4CompressFrameBound, lz4CompressFrameInto, lz4CompressFrames, lz4CompressFramesInto, lz4CompressFrameSync, lz4DecompressFrame, lz4DecompressFrameInto,
    lz4DecompressFrameSync, versions,
} from "codec-node";
import { gcNow, halfRandom, MiB, pythonLz4Compress, pythonLz4Decompress, text } from "./helpers.ts";

// What StreamSink writes: the other tool's settings.
const STREAM = { level: 2, blockChecksum: true, contentChecksum: true, contentSize: true };
const FLG_BLOCK_CHECKSUM = 0x10, FLG_CONTENT_SIZE = 0x08, FLG_CONTENT_CHECKSUM = 0x04;

const samples: Array<[string, Buffer]> = [
    ["empty", Buffer.alloc(0)],
    ["1 byte", Buffer.from([0x5a])],
    // One block (64 KiB at most): both sums are ours, one pass for a block stored as is.
    ["random 4 KiB", crypto.randomBytes(4096)],
    ["random 64 KiB", crypto.randomBytes(65536)],
    ["text 64 KiB", text(65536, 3)],
    ["zeros 64 KiB", Buffer.alloc(65536)],
    ["random 64 KiB + 1", crypto.randomBytes(65537)],
    ["random 1 MiB + 3", crypto.randomBytes(MiB + 3)],
    ["text 3 MiB", text(3 * MiB)],
    ["zeros 4 MiB", Buffer.alloc(4 * MiB)],
    ["half random 33 MiB", halfRandom(33 * MiB)],
];

test("versions of the libraries in use", () => {
    assert.match(versions.lz4, /^1\.\d+\.\d+$/);
    assert.match(versions.libdeflate, /^1\.\d+/);
});

test("round trips, async and sync, with and without checksums", async () => {
    for (const [name, data] of samples) {
        const frame = await lz4CompressFrame(data, STREAM);
        assert.deepEqual(await lz4DecompressFrame(frame, data.length), data, name);
        assert.deepEqual(lz4DecompressFrameSync(frame, data.length), data, name);
        const plain = lz4CompressFrameSync(data, { contentSize: false });
        assert.deepEqual(lz4DecompressFrameSync(plain, data.length), data, `${name}, plain`);
        assert.ok(frame.length <= plain.length + 8 + 4 + 4 * Math.ceil(data.length / 65536), `${name}: checksums cost what they should`);
    }
    // Compressible data shrinks, and the Buffer is exactly the frame (no slack behind it).
    const zeros = await lz4CompressFrame(Buffer.alloc(4 * MiB), STREAM);
    assert.ok(zeros.length < 64 * 1024, `${zeros.length} bytes for 4 MiB of zeros`);
    assert.equal(zeros.buffer.byteLength, zeros.length);
});

test("the frame header carries the flags asked for", () => {
    const data = text(100000);
    const frame = lz4CompressFrameSync(data, STREAM);
    assert.equal(frame.readUInt32LE(0), 0x184d2204);
    assert.equal(frame[4] & (FLG_BLOCK_CHECKSUM | FLG_CONTENT_SIZE | FLG_CONTENT_CHECKSUM), FLG_BLOCK_CHECKSUM | FLG_CONTENT_SIZE | FLG_CONTENT_CHECKSUM);
    assert.equal(Number(frame.readBigUInt64LE(6)), data.length);
    const bare = lz4CompressFrameSync(data, { contentSize: false });
    assert.equal(bare[4] & (FLG_BLOCK_CHECKSUM | FLG_CONTENT_SIZE | FLG_CONTENT_CHECKSUM), 0);
    // Default options record the size but no checksums.
    assert.equal(lz4CompressFrameSync(data)[4] & (FLG_BLOCK_CHECKSUM | FLG_CONTENT_SIZE | FLG_CONTENT_CHECKSUM), FLG_CONTENT_SIZE);
    // A higher level compresses text better (liblz4's HC mode); above 12 counts as 12, as in Python.
    assert.ok(lz4CompressFrameSync(data, { level: 9 }).length < lz4CompressFrameSync(data, { level: 1 }).length);
    assert.deepEqual(lz4CompressFrameSync(data, { level: 16 }), lz4CompressFrameSync(data, { level: 12 }));
});

test("Python's lz4.frame reads our frames", async () => {
    for (const [name, data] of samples) {
        const frame = await lz4CompressFrame(data, STREAM);
        assert.ok(pythonLz4Decompress(frame).equals(data), name);
    }
});

// The content checksum is added by us (libxxhash), not by liblz4: the frames must still be liblz4's, byte for byte.
test("our frames are byte for byte those Python's lz4.frame writes, with each choice of checksums and level", async () => {
    for (const [name, data] of samples) {
        assert.deepEqual(await lz4CompressFrame(data, STREAM), pythonLz4Compress(data), name);
        assert.deepEqual(lz4CompressFrameSync(data, STREAM), pythonLz4Compress(data), `${name}, sync`);
    }
    const data = halfRandom(300_000);
    for (const blockChecksum of [false, true]) {
        for (const contentChecksum of [false, true]) {
            for (const level of [0, 2, 9]) {
                const what = `block sums ${blockChecksum}, content sum ${contentChecksum}, level ${level}`;
                const ours = await lz4CompressFrame(data, { level, blockChecksum, contentChecksum, contentSize: true });
                assert.deepEqual(ours, pythonLz4Compress(data, { level, blockChecksum, contentChecksum }), what);
                const [batched] = await lz4CompressFrames([data], { level, blockChecksum, contentChecksum, contentSize: true });
                assert.deepEqual(batched, ours, `${what}, batched`);
            }
        }
    }
});

test("we read the frames Python's lz4.frame writes", async () => {
    for (const [name, data] of samples) {
        const frame = pythonLz4Compress(data);
        assert.deepEqual(await lz4DecompressFrame(frame, data.length), data, name);
    }
});

test("a damaged frame is rejected: block checksum, content checksum, header, truncation", async () => {
    const data = halfRandom(2 * MiB);
    const frame = await lz4CompressFrame(data, STREAM);
    const flip = (at: number): Buffer => {
        const copy = Buffer.from(frame);
        copy[at] ^= 0x40;
        return copy;
    };
    // A byte in the first (random, stored) block: the block checksum catches it.
    await assert.rejects(lz4DecompressFrame(flip(100), data.length), { code: "ERR_LZ4", message: /blockChecksum_invalid/ });
    // The last byte is the content checksum.
    await assert.rejects(lz4DecompressFrame(flip(frame.length - 1), data.length), { code: "ERR_LZ4", message: /contentChecksum_invalid/ });
    await assert.rejects(lz4DecompressFrame(flip(14), data.length), { code: "ERR_LZ4", message: /header/i });
    await assert.rejects(lz4DecompressFrame(flip(0), data.length), { code: "ERR_LZ4", message: /frameType_unknown/ });
    await assert.rejects(lz4DecompressFrame(frame.subarray(0, frame.length - 5), data.length), { code: "ERR_LZ4", message: /truncated/ });
    await assert.rejects(lz4DecompressFrame(frame.subarray(0, 5), data.length), { code: "ERR_LZ4" });
    await assert.rejects(lz4DecompressFrame(Buffer.alloc(0), 0), { code: "ERR_LZ4" });
    // The sums are checked by us after liblz4 decoded with its checks off; a damaged sum itself, a block's sum in a
    // compressed block, and a frame with only one kind of sum are caught too, with liblz4's own words.
    const blockSumAt = 15 + 4 + (frame.readUInt32LE(15) & 0x7fffffff);
    await assert.rejects(lz4DecompressFrame(flip(blockSumAt), data.length), { code: "ERR_LZ4", message: /blockChecksum_invalid/ });
    const words = await lz4CompressFrame(text(MiB), STREAM);
    const flippedWords = Buffer.from(words);
    flippedWords[40] ^= 0x01;
    await assert.rejects(lz4DecompressFrame(flippedWords, MiB), { code: "ERR_LZ4", message: /blockChecksum_invalid|decompressionFailed/ });
    for (const [blockChecksum, contentChecksum, expected] of [[true, false, /blockChecksum_invalid/], [false, true, /contentChecksum_invalid/]] as const) {
        const one = Buffer.from(await lz4CompressFrame(data, { level: 2, blockChecksum, contentChecksum, contentSize: true }));
        one[100] ^= 0x40;
        await assert.rejects(lz4DecompressFrame(one, data.length), { code: "ERR_LZ4", message: expected });
    }
    // A block that claims more bytes than the frame has.
    const lying = Buffer.from(frame);
    lying.writeUInt32LE((lying.readUInt32LE(15) + 1000) >>> 0, 15);
    await assert.rejects(lz4DecompressFrame(lying, data.length), { code: "ERR_LZ4" });
    // Without checksums a flipped literal goes unnoticed: that is what the checksums are for.
    const bare = lz4CompressFrameSync(data, { contentSize: false });
    const flipped = Buffer.from(bare);
    flipped[100] ^= 0x40;
    assert.notDeepEqual(lz4DecompressFrameSync(flipped, data.length), data);
});

test("a wrong expectedSize and trailing bytes are rejected", async () => {
    const data = text(200000);
    const sized = await lz4CompressFrame(data, STREAM);
    const unsized = await lz4CompressFrame(data, { ...STREAM, contentSize: false });
    for (const frame of [sized, unsized]) {
        await assert.rejects(lz4DecompressFrame(frame, data.length - 1), { code: "ERR_LZ4_SIZE" });
        await assert.rejects(lz4DecompressFrame(frame, data.length + 1), { code: "ERR_LZ4_SIZE" });
        await assert.rejects(lz4DecompressFrame(frame, 0), { code: "ERR_LZ4_SIZE" });
        assert.throws(() => lz4DecompressFrameSync(frame, data.length - 1), { code: "ERR_LZ4_SIZE" });
        await assert.rejects(lz4DecompressFrame(Buffer.concat([frame, Buffer.from([0])]), data.length),
            { code: "ERR_LZ4_TRAILING", message: /1 byte\(s\) follow/ });
        // Two frames back to back are not one frame.
        await assert.rejects(lz4DecompressFrame(Buffer.concat([frame, frame]), data.length), { code: "ERR_LZ4_TRAILING" });
    }
    await assert.rejects(lz4DecompressFrame(sized, data.length - 1), { message: /records a content size of 200000 bytes, expected 199999/ });
    await assert.rejects(lz4DecompressFrame(unsized, data.length - 1), { message: /more than the expected 199999 bytes/ });
    await assert.rejects(lz4DecompressFrame(unsized, data.length + 1), { message: /decompresses to 200000 bytes, expected 200001/ });
});

test("bad arguments: TypeError / RangeError, rejected (async) or thrown (sync)", async () => {
    const frame = lz4CompressFrameSync(Buffer.from("x"));
    await assert.rejects(lz4CompressFrame("x" as unknown as Uint8Array), { name: "TypeError", code: "ERR_INVALID_ARG_TYPE" });
    await assert.rejects(lz4CompressFrame(Buffer.from("x"), { level: 2 ** 31 }), { name: "RangeError", code: "ERR_OUT_OF_RANGE" });
    await assert.rejects(lz4CompressFrame(Buffer.from("x"), { level: 2.5 }), { name: "RangeError" });
    await assert.rejects(lz4CompressFrame(Buffer.from("x"), { blockChecksum: 1 as unknown as boolean }), { name: "TypeError" });
    await assert.rejects(lz4CompressFrame(Buffer.from("x"), null as unknown as object), { name: "TypeError" });
    await assert.rejects(lz4DecompressFrame(frame, -1), { name: "RangeError" });
    await assert.rejects(lz4DecompressFrame(frame, "1" as unknown as number), { name: "TypeError" });
    await assert.rejects(lz4DecompressFrame([1, 2] as unknown as Uint8Array, 1), { name: "TypeError" });
    assert.throws(() => lz4CompressFrameSync({} as Uint8Array), { name: "TypeError" });
    assert.throws(() => lz4DecompressFrameSync(frame, 2 ** 53), { name: "RangeError" });
});

test("8 compressions and decompressions in flight all resolve to their own data", async () => {
    const inputs = Array.from({ length: 8 }, (_, i) => Buffer.concat([crypto.randomBytes(i * 300000), text(2 * MiB, i + 1)]));
    const frames = await Promise.all(inputs.map((data, i) => lz4CompressFrame(data, { ...STREAM, level: i % 2 ? 2 : 0 })));
    const outputs = await Promise.all(frames.map((frame, i) => lz4DecompressFrame(frame, inputs[i].length)));
    outputs.forEach((out, i) => assert.ok(out.equals(inputs[i]), `stream ${i}`));
    // Different inputs made different frames; each one matches its own input only.
    assert.ok(!frames[1].equals(frames[2]));
    await assert.rejects(lz4DecompressFrame(frames[1], inputs[2].length), { code: "ERR_LZ4_SIZE" });
});

test("the input is kept alive while the thread pool reads it", async () => {
    // No reference but the pending call's: a collected input would corrupt the frame.
    const pending = Array.from({ length: 4 }, (_, i) => lz4CompressFrame(text(4 * MiB, 100 + i), STREAM));
    gcNow();
    const frames = await Promise.all(pending);
    frames.forEach((frame, i) => assert.ok(lz4DecompressFrameSync(frame, 4 * MiB).equals(text(4 * MiB, 100 + i))));
});

test("lz4CompressFrames: each frame is byte for byte lz4CompressFrame's, in order, in one job", async () => {
    const inputs = [Buffer.alloc(0), crypto.randomBytes(4096), text(65536, 7), Buffer.alloc(200000), crypto.randomBytes(256 * 1024), Buffer.from([1])];
    for (const options of [STREAM, { level: 9, contentSize: false }, undefined]) {
        const frames = await lz4CompressFrames(inputs, options);
        assert.equal(frames.length, inputs.length);
        frames.forEach((frame, i) => {
            assert.ok(frame.equals(lz4CompressFrameSync(inputs[i], options)), `frame ${i}`);
            assert.ok(lz4DecompressFrameSync(frame, inputs[i].length).equals(inputs[i]), `frame ${i} round trip`);
        });
    }
    assert.deepEqual(await lz4CompressFrames([]), []);
    // The inputs stay alive with no reference but the pending call's.
    const pending = lz4CompressFrames(Array.from({ length: 16 }, (_, i) => text(64 * 1024, 200 + i)), STREAM);
    gcNow();
    (await pending).forEach((frame, i) => assert.ok(lz4DecompressFrameSync(frame, 64 * 1024).equals(text(64 * 1024, 200 + i)), `kept ${i}`));
    await assert.rejects(lz4CompressFrames("x" as unknown as Uint8Array[]), { name: "TypeError", code: "ERR_INVALID_ARG_TYPE" });
    await assert.rejects(lz4CompressFrames([Buffer.from("x"), "y" as unknown as Uint8Array]), { name: "TypeError", message: /inputs\[1\]/ });
    await assert.rejects(lz4CompressFrames([Buffer.from("x")], { level: 2.5 }), { name: "RangeError" });
});

test("lz4CompressFrameInto: byte for byte lz4CompressFrame's frame, into the given buffer, reused", async () => {
    const out = Buffer.alloc(lz4CompressFrameBound(33 * MiB, STREAM) + 100, 0xee);
    for (const [name, data] of samples) {
        for (const options of [STREAM, { level: 9, contentSize: false }, undefined]) {
            const n = await lz4CompressFrameInto(data, out, options);
            assert.ok(out.subarray(0, n).equals(lz4CompressFrameSync(data, options)), `${name} ${JSON.stringify(options)}`);
        }
    }
    // The bound is enough for incompressible data, and exactly what is asked for.
    const random = crypto.randomBytes(4 * MiB);
    const exact = Buffer.alloc(lz4CompressFrameBound(random.length, STREAM));
    const n = await lz4CompressFrameInto(random, exact, STREAM);
    assert.ok(lz4DecompressFrameSync(exact.subarray(0, n), random.length).equals(random));
    // Too little room is refused before anything is written.
    const small = Buffer.alloc(exact.length - 1, 0x11);
    await assert.rejects(lz4CompressFrameInto(random, small, STREAM), { code: "ERR_LZ4", message: /needs room for/ });
    assert.ok(small.every(b => b === 0x11));
    // Both stay alive with no reference but the pending call's.
    const pending = lz4CompressFrameInto(text(MiB, 5), Buffer.alloc(2 * MiB), STREAM);
    gcNow();
    assert.ok((await pending) > 0);
    await assert.rejects(lz4CompressFrameInto(random, random.subarray(100)), { name: "RangeError" });
    await assert.rejects(lz4CompressFrameInto(random, "x" as unknown as Uint8Array), { name: "TypeError", code: "ERR_INVALID_ARG_TYPE" });
    assert.throws(() => lz4CompressFrameBound(-1), { name: "RangeError" });
});

test("lz4CompressFramesInto: lz4CompressFrames' frames back to back in the given buffer", async () => {
    const inputs = [Buffer.alloc(0), crypto.randomBytes(4096), text(65536, 7), Buffer.alloc(200000), crypto.randomBytes(256 * 1024), Buffer.from([1])];
    const room = inputs.reduce((n, d) => n + lz4CompressFrameBound(d.length, STREAM), 0);
    const out = Buffer.alloc(room + 10, 0xee);
    for (let round = 0; round < 2; round++) {
        const sizes = await lz4CompressFramesInto(inputs, out, STREAM);
        assert.equal(sizes.length, inputs.length);
        let at = 0;
        sizes.forEach((n, i) => {
            assert.ok(out.subarray(at, at + n).equals(lz4CompressFrameSync(inputs[i]!, STREAM)), `frame ${i}, round ${round}`);
            at += n;
        });
    }
    assert.deepEqual(await lz4CompressFramesInto([], Buffer.alloc(0)), []);
    const small = Buffer.alloc(room - 1, 0x11);
    await assert.rejects(lz4CompressFramesInto(inputs, small, STREAM), { code: "ERR_LZ4", message: /need room for/ });
    assert.ok(small.every(b => b === 0x11));
    await assert.rejects(lz4CompressFramesInto([out.subarray(0, 10)], out.subarray(5)), { name: "RangeError" });
    await assert.rejects(lz4CompressFramesInto([Buffer.from("x")], "y" as unknown as Uint8Array), { name: "TypeError" });
});

test("decompressing into a given buffer: the same content, written in place; damage and short room refused", async () => {
    const data = halfRandom(300_000);
    const frame = await lz4CompressFrame(data, { blockChecksum: true, contentChecksum: true });
    const out = Buffer.alloc(data.length + 10, 0xee);
    assert.equal(await lz4DecompressFrameInto(frame, out.subarray(5), data.length), data.length);
    assert.deepEqual(out.subarray(5, 5 + data.length), data);
    assert.deepEqual([out[4], out[5 + data.length]], [0xee, 0xee], "nothing written outside the content's room");
    const damaged = Buffer.from(frame);
    damaged[damaged.length - 1] ^= 1;
    await assert.rejects(lz4DecompressFrameInto(damaged, out, data.length), { code: "ERR_LZ4", message: /contentChecksum_invalid/ });
    await assert.rejects(lz4DecompressFrameInto(frame, out, data.length - 1), { code: "ERR_LZ4_SIZE" });
    await assert.rejects(lz4DecompressFrameInto(frame, Buffer.alloc(data.length - 1), data.length), RangeError);
    await assert.rejects(lz4DecompressFrameInto(frame, "out" as unknown as Buffer, data.length), TypeError);
});
