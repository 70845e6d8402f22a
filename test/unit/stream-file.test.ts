// SPDX-License-Identifier: GPL-3.0-or-later
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import type { Extent, Sink, Source } from "../../helper/engine/endpoint.ts";
import { StreamSink, streamDataSize, type StreamSinkOptions } from "../../helper/engine/stream-sink.ts";
import { StreamSource } from "../../helper/engine/stream-source.ts";
import { copyExtents } from "../../helper/engine/copy.ts";
import { splitFixed } from "../../helper/engine/extents.ts";
import { ImageSink, rawPlacement } from "../../helper/engine/image-sink.ts";
import {
    encodeFrameHeader, encodeMeta, encodeTrailer, TERM, entryStoredSize, FormatError, parseFrameHeader, parseTrailerJson, trailerEntryFor, type StreamMeta, type TrailerEntry,
} from "../../helper/format/index.ts";
import { lz4CompressFrameSync } from "codec-node";
import { knownDisk, knownExtents, knownMeta, knownStream, metaFor } from "./format/known-stream.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
let dir: string;
let serial = 0;
const fresh = (name: string) => path.join(dir, `${++serial}-${name}`);

before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-stream-`));
});
after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
});

/** zlib.adler32 as the other tool computes it: Debian's Python, the reference for `.chksum` files. */
function pythonAdler32(data: Buffer): number {
    const script = "import sys, zlib; print(zlib.adler32(sys.stdin.buffer.read()))";
    return Number(execFileSync("/usr/bin/python3", ["-c", script], { input: data, encoding: "utf8", maxBuffer: 1 << 20 }).trim());
}

/** A disk image with a mix of random data, compressible data and zero ranges, and its extent plan. */
function makeDisk(): { disk: Buffer; extents: Extent[] } {
    const disk = Buffer.alloc(12 * MiB);
    const extents: Extent[] = [
        { offset: 0, length: 64 * KiB, data: true },
        { offset: 64 * KiB, length: 960 * KiB, data: false },
        { offset: 1 * MiB, length: 3 * MiB + 123, data: true }, // longer than the max request size used below
        { offset: 4 * MiB + 123, length: 2 * MiB - 123, data: false },
        { offset: 6 * MiB, length: 1 * MiB, data: true }, // exactly the max request size
        { offset: 7 * MiB, length: 4 * MiB, data: false },
        { offset: 11 * MiB, length: 1 * MiB, data: true },
    ];
    for (const e of extents) {
        if (!e.data) continue;
        crypto.randomFillSync(disk, e.offset, Math.floor(e.length / 2));
        disk.fill("compressible ", e.offset + Math.floor(e.length / 2), e.offset + e.length);
    }
    return { disk, extents };
}


/** Feeds a sink like the copy pipeline does: chunks transformed concurrently, sink calls in order. */
async function drive(sink: Sink, extents: Extent[], read: (offset: number, length: number) => Promise<Buffer>, maxChunk: number): Promise<void> {
    for (const e of extents) {
        if (!e.data) {
            await sink.writeZero(e);
            continue;
        }
        await sink.beginData(e);
        const pieces: Promise<[number, number, Buffer]>[] = [];
        for (let at = e.offset; at < e.offset + e.length; at += maxChunk) {
            const length = Math.min(maxChunk, e.offset + e.length - at);
            pieces.push(read(at, length).then(async (data) => [at, length, sink.transform ? await sink.transform({ offset: at, length }, data) : data]));
        }
        for (const p of pieces) {
            const [offset, length, data] = await p;
            await sink.writeChunk({ offset, length }, data);
        }
        await sink.endData(e);
    }
    await sink.finish();
}

const fromBuffer = (disk: Buffer) => async (offset: number, length: number) => Buffer.from(disk.subarray(offset, offset + length));

/** Copies every data chunk of `source` into a zeroed buffer of the disk size. */
async function readAllData(source: StreamSource, maxChunk: number): Promise<Buffer> {
    const out = Buffer.alloc(source.size);
    for (const e of source.extents) {
        if (!e.data) continue;
        for (const chunk of source.split(e, maxChunk)) {
            const data = await source.read(chunk, Buffer.allocUnsafe(Math.max(chunk.length, maxChunk)));
            assert.equal(data.length, chunk.length);
            data.copy(out, chunk.offset);
        }
    }
    return out;
}

async function writeStream(extents: Extent[], disk: Buffer, options: StreamSinkOptions & { maxChunk?: number } = {}, patch: Partial<StreamMeta> = {}) {
    const file = fresh("vda.full.data");
    const sink = await StreamSink.create(file, metaFor(extents, disk.length, patch), options);
    await drive(sink, extents, fromBuffer(disk), options.maxChunk ?? 1 * MiB);
    return { file, sink };
}

const expectFormatError = async (file: string, re: RegExp) => {
    await assert.rejects(StreamSource.open(file), (err: unknown) => {
        assert.ok(err instanceof FormatError, String(err));
        assert.match(err.message, re);
        assert.ok(err.message.startsWith(`${file}: at byte `), err.message);
        return true;
    });
};

test("the sink writes the known small stream byte for byte, with its .chksum", async () => {
    const file = fresh("vda.full.data");
    const sink = await StreamSink.create(file, knownMeta);
    assert.equal(sink.transform, undefined);
    await drive(sink, knownExtents, fromBuffer(knownDisk), 2);
    const bytes = fs.readFileSync(file);
    assert.deepEqual(bytes, knownStream);
    assert.equal(fs.readFileSync(`${file}.chksum`, "latin1"), String(pythonAdler32(bytes)));
    assert.equal(sink.checksum, pythonAdler32(bytes));
    assert.equal(fs.existsSync(`${file}.partial`), false);
});

test("uncompressed round trip: meta, extents and bytes", async () => {
    const { disk, extents } = makeDisk();
    const { file } = await writeStream(extents, disk);
    const source = await StreamSource.open(file);
    try {
        assert.deepEqual(source.meta, metaFor(extents, disk.length));
        assert.deepEqual(source.extents, extents);
        assert.equal(source.size, disk.length);
        assert.equal(source.compressed, false);
        assert.deepEqual(source.split(extents[2], 1 * MiB).map((c) => c.length), [MiB, MiB, MiB, 123]);
        assert.deepEqual(await readAllData(source, 1 * MiB), disk);
        assert.deepEqual(await readAllData(source, 100 * KiB), disk);
        // a sub-range read inside a frame
        const part = await source.read({ offset: 2 * MiB + 5, length: 1000 }, Buffer.alloc(4096));
        assert.deepEqual(part, disk.subarray(2 * MiB + 5, 2 * MiB + 1005));
        assert.throws(() => source.split({ offset: 64 * KiB, length: 10, data: true }, MiB), /is not data in this stream/);
    } finally {
        await source.close();
    }
    const bytes = fs.readFileSync(file);
    assert.equal(fs.readFileSync(`${file}.chksum`, "latin1"), String(pythonAdler32(bytes)));
});

test("compressed round trip: lz4 frames with checksums and content size, trailer in the other tool's form", async () => {
    const { disk, extents } = makeDisk();
    const { file, sink } = await writeStream(extents, disk, { compress: 2, maxRequestSize: 1 * MiB, maxChunk: 1 * MiB });
    assert.equal(sink.meta.compressed, 2);
    const bytes = fs.readFileSync(file);
    const comp = parseFrameHeader(bytes, bytes.length - 40);
    assert.equal(comp.kind, "comp");
    const trailer = parseTrailerJson(bytes.subarray(bytes.length - 42 - comp.length, bytes.length - 42));
    assert.equal(trailer.length, 4);
    assert.equal(typeof trailer[0], "number"); // 64 KiB: one frame, plain number
    assert.equal((trailer[1] as { sizes: number[] }).sizes.length, 4); // 3 MiB + 123: four frames
    assert.equal((trailer[2] as { sizes: number[] }).sizes.length, 1); // exactly max request size: list of one
    assert.ok(bytes.length < disk.length / 2, `compressed file is ${bytes.length} bytes`);
    const source = await StreamSource.open(file);
    try {
        assert.equal(source.compressed, true);
        assert.deepEqual(source.extents, extents);
        // one chunk per lz4 frame, whatever maxChunk says
        assert.deepEqual(source.split(extents[2], 64 * KiB).map((c) => c.length), [MiB, MiB, MiB, 123]);
        assert.deepEqual(await readAllData(source, 64 * KiB), disk);
        const part = await source.read({ offset: 2 * MiB + 5, length: 1000 }, Buffer.alloc(0));
        assert.deepEqual(part, disk.subarray(2 * MiB + 5, 2 * MiB + 1005));
    } finally {
        await source.close();
    }
    assert.equal(fs.readFileSync(`${file}.chksum`, "latin1"), String(pythonAdler32(bytes)));
});

test("compressed chunking below the max request size is refused (the other tool could not read it)", async () => {
    const { disk, extents } = makeDisk();
    const file = fresh("vda.full.data");
    const sink = await StreamSink.create(file, metaFor(extents, disk.length), { compress: 2 });
    await assert.rejects(drive(sink, extents, fromBuffer(disk), 32 * KiB), /shorter than the max request size .* must be one chunk/);
    await sink.abort();
    assert.equal(fs.existsSync(`${file}.partial`), false);
    assert.equal(fs.existsSync(file), false);
});

test("incremental streams carry no zero frames; an empty one is meta + stop", async () => {
    const { disk, extents } = makeDisk();
    const inc = { incremental: true, checkpointName: "virtnbdbackup.1", parentCheckpoint: "virtnbdbackup.0" };
    const { file } = await writeStream(extents, disk, {}, inc);
    const source = await StreamSource.open(file);
    assert.deepEqual(source.extents, extents.filter((e) => e.data));
    assert.deepEqual(await readAllData(source, MiB), disk);
    await source.close();

    const empty = fresh("vda.inc.virtnbdbackup.2.data");
    const sink = await StreamSink.create(empty, metaFor([], disk.length, inc), { compress: 2 });
    await drive(sink, [{ offset: 0, length: disk.length, data: false }], fromBuffer(disk), MiB);
    const bytes = fs.readFileSync(empty);
    const metaLength = parseFrameHeader(bytes).length;
    assert.match(bytes.subarray(40, 40 + metaLength).toString(), /"dataSize": 0,\n/);
    assert.equal(bytes.subarray(40 + metaLength).toString("latin1"),
        "\r\nstop 0000000000000000 0000000000000000\r\n[]\r\ncomp 0000000000000000 0000000000000002\r\n");
    const emptySource = await StreamSource.open(empty);
    assert.deepEqual(emptySource.extents, []);
    await emptySource.close();
});

/** The file is exactly `expected`, its .chksum is right, and it reads back as `disk` (with `extents`, when given). */
async function checkFramesAndData(file: string, expected: Buffer[], disk: Buffer, extents?: Extent[]): Promise<Buffer> {
    const bytes = fs.readFileSync(file);
    assert.ok(bytes.equals(Buffer.concat(expected)), "the file differs from the expected frames");
    assert.equal(fs.readFileSync(`${file}.chksum`, "latin1"), String(pythonAdler32(bytes)));
    const source = await StreamSource.open(file);
    try {
        if (extents)
            assert.equal(JSON.stringify(source.extents), JSON.stringify(extents));
        assert.ok((await readAllData(source, MiB)).equals(disk), "the data read back differs");
    } finally {
        await source.close();
    }
    return bytes;
}

test("many small frames (staged into one write) come out byte for byte, even when the caller reuses its buffer", async () => {
    // Scattered small data extents of every size around the staging limits, zero gaps between them, and big
    // extents in between: the file must hold exactly the frames, in order, whatever was batched.
    const lengths = [64 * KiB, 4 * KiB, 256 * KiB, 256 * KiB + 1, 512, 1 * MiB, 3 * MiB + 7, 65 * KiB, 1000 * KiB];
    const extents: Extent[] = [];
    let at = 0;
    for (let i = 0; i < 90; i++) {
        const length = lengths[i % lengths.length]!;
        extents.push({ offset: at, length, data: true });
        at += length;
        if (i % 5 !== 4) {
            extents.push({ offset: at, length: 64 * KiB, data: false });
            at += 64 * KiB;
        }
    }
    const disk = crypto.randomBytes(at);
    for (const e of extents) if (!e.data) disk.fill(0, e.offset, e.offset + e.length);
    const expected: Buffer[] = [];
    const meta = metaFor(extents, disk.length);
    const json = encodeMeta({ ...meta, compressed: false, compressionMethod: "lz4" });
    expected.push(encodeFrameHeader("meta", 0, json.length), json, TERM);
    for (const e of extents) {
        if (e.data) expected.push(encodeFrameHeader("data", e.offset, e.length), disk.subarray(e.offset, e.offset + e.length), TERM);
        else expected.push(encodeFrameHeader("zero", e.offset, e.length));
    }
    expected.push(encodeFrameHeader("stop", 0, 0));

    const file = fresh("vda.full.data");
    const sink = await StreamSink.create(file, meta);
    // One read buffer for every chunk, overwritten (with junk, then the next chunk) as soon as writeChunk resolves.
    const reused = Buffer.allocUnsafe(MiB);
    for (const e of extents) {
        if (!e.data) {
            await sink.writeZero(e);
            continue;
        }
        await sink.beginData(e);
        for (let pos = e.offset; pos < e.offset + e.length; pos += MiB) {
            const length = Math.min(MiB, e.offset + e.length - pos);
            disk.copy(reused, 0, pos, pos + length);
            await sink.writeChunk({ offset: pos, length }, reused.subarray(0, length));
            reused.fill(0xa5);
        }
        await sink.endData(e);
    }
    await sink.finish();
    // Read back (the header scan reads small frames through a wider window): the same extents and bytes,
    // and damage deep inside the run of small frames is still found at its exact byte.
    const bytes = await checkFramesAndData(file, expected, disk, extents);
    const damagedAt = findFrame(bytes, "data", 61);
    const broken = fresh("vda.full.data");
    fs.writeFileSync(broken, Buffer.concat([bytes.subarray(0, damagedAt), Buffer.from("dat?", "latin1"), bytes.subarray(damagedAt + 4)]));
    await expectFormatError(broken, new RegExp(`at byte ${damagedAt}: bad frame kind "dat\\?"`));
});

/**
 * An lz4 incremental of `count` data extents cycling through `lengths`, `gap` bytes apart (every `textEvery`th one
 * compressible text, the rest random), and the file it must be: each extent one frame, byte for byte lz4's.
 */
function compressedCase(lengths: number[], count: number, gap: number, textEvery: number) {
    const extents: Extent[] = [];
    let at = 0;
    for (let i = 0; i < count; i++) {
        const length = lengths[i % lengths.length]!;
        extents.push({ offset: at, length, data: true });
        at += length + gap;
    }
    const disk = Buffer.alloc(at);
    extents.forEach((e, i) => i % textEvery ? crypto.randomFillSync(disk, e.offset, e.length) : disk.fill(`text ${i} `, e.offset, e.offset + e.length));
    const options = { level: 2, blockChecksum: true, contentChecksum: true, contentSize: true };
    const meta = { ...metaFor(extents, disk.length, { incremental: true }), compressed: 2 as const };
    const frames = extents.map(e => lz4CompressFrameSync(disk.subarray(e.offset, e.offset + e.length), options));
    const json = encodeMeta({ ...meta, compressionMethod: "lz4" });
    const expected: Buffer[] = [encodeFrameHeader("meta", 0, json.length), json, TERM];
    extents.forEach((e, i) => expected.push(encodeFrameHeader("data", e.offset, e.length), frames[i]!, TERM));
    expected.push(encodeFrameHeader("stop", 0, 0), encodeTrailer(extents.map((e, i) => trailerEntryFor(e.length, [frames[i]!.length], 32 * MiB))));
    return { extents, disk, meta, expected };
}

test("many small compressed extents (compressed together in batches) are each the frame lz4 makes of them, in order", async () => {
    // Small extents of several sizes (batched: many to one thread-pool job) and a few bigger ones (one job
    // each), all transformed at once as the copy does with many reads in flight, then written in order.
    const { extents, disk, meta, expected } = compressedCase([64 * KiB, 4 * KiB, 256 * KiB, 300 * KiB, 512, 16 * KiB, 2 * MiB + 5], 120, 4 * KiB, 3);

    const file = fresh("vda.inc.virtnbdbackup.1.data");
    const sink = await StreamSink.create(file, meta, { maxRequestSize: 32 * MiB });
    const transformed = extents.map(e => sink.transform!({ offset: e.offset, length: e.length }, Buffer.from(disk.subarray(e.offset, e.offset + e.length))));
    for (const [i, e] of extents.entries()) {
        await sink.beginData(e);
        await sink.writeChunk({ offset: e.offset, length: e.length }, await transformed[i]!);
        await sink.endData(e);
    }
    await sink.finish();
    await checkFramesAndData(file, expected, disk);
});

test("compressed extents through the copy: frames written from reused input and output buffers are lz4's, byte for byte", async () => {
    // Extents above the batch size, each one frame (below the max request size), some above the copy's chunk
    // size (its own buffers, reused), and small ones (compressed in batches, back to back in one buffer), through
    // a window that holds a few at a time: the compressor's output buffers go back to it once all their frames
    // are written and must never carry one frame's bytes into another.
    const { extents, disk, meta, expected } = compressedCase([4 * MiB, 300 * KiB, 64 * KiB, 1 * MiB, 2 * MiB + 5, 4 * KiB, 512 * KiB, 4 * MiB - 3, 16 * KiB, 3 * MiB], 40, 64 * KiB, 4);

    const file = fresh("vda.inc.virtnbdbackup.1.data");
    const sink = await StreamSink.create(file, meta, { maxRequestSize: 32 * MiB });
    const reads = new Set<ArrayBufferLike>();
    const written = new Set<ArrayBufferLike>();
    const write = sink.writeChunk.bind(sink);
    sink.writeChunk = (chunk, data) => {
        written.add(data.buffer);
        return write(chunk, data);
    };
    const source: Source = {
        size: disk.length,
        split: (e, max) => splitFixed(e, max),
        async read(chunk, buf) {
            reads.add(buf.buffer);
            // Reads finish out of order.
            await new Promise(resolve => setTimeout(resolve, (chunk.offset / KiB) % 7));
            disk.copy(buf, 0, chunk.offset, chunk.offset + chunk.length);
            return buf.subarray(0, chunk.length);
        },
        async close() {},
    };
    await copyExtents(extents, source, sink, { maxChunk: MiB, maxInFlight: 64, maxBytesInFlight: 8 * MiB });
    await checkFramesAndData(file, expected, disk);
    assert.ok(reads.size < extents.length / 2, `${reads.size} read buffers for ${extents.length} extents`);
    assert.ok(written.size < extents.length / 2, `${written.size} frame buffers for ${extents.length} extents`);
});

test("the sink refuses to overwrite, checks dataSize, and abort leaves nothing", async () => {
    const { disk, extents } = makeDisk();
    const existing = fresh("vda.full.data");
    fs.writeFileSync(existing, "keep me");
    await assert.rejects(StreamSink.create(existing, metaFor(extents, disk.length)), /already exists; refusing to overwrite/);

    // the final name appears while the backup runs: finish fails, the other file stays intact
    const racing = fresh("vda.full.data");
    const sink = await StreamSink.create(racing, metaFor(extents, disk.length));
    fs.writeFileSync(racing, "someone else");
    await assert.rejects(drive(sink, extents, fromBuffer(disk), MiB), /already exists; refusing to overwrite/);
    await sink.abort();
    assert.equal(fs.readFileSync(racing, "utf8"), "someone else");
    assert.equal(fs.existsSync(`${racing}.partial`), false);
    assert.equal(fs.existsSync(`${racing}.chksum`), false);

    const short = fresh("vda.full.data");
    const shortSink = await StreamSink.create(short, metaFor(extents, disk.length, { dataSize: 5 }));
    await assert.rejects(drive(shortSink, extents, fromBuffer(disk), MiB), /announces dataSize 5/);
    await shortSink.abort();
    await shortSink.abort(); // twice: still quiet
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.includes(path.basename(short))), []);

    const aborted = fresh("vda.full.data");
    const abortSink = await StreamSink.create(aborted, metaFor(extents, disk.length));
    await abortSink.beginData(extents[0]);
    await abortSink.writeChunk({ offset: 0, length: 4096 }, disk.subarray(0, 4096));
    await abortSink.abort();
    await assert.rejects(abortSink.writeChunk({ offset: 4096, length: 4096 }, disk.subarray(4096, 8192)), /aborted/);
    assert.equal(fs.existsSync(`${aborted}.partial`), false);
    assert.equal(fs.existsSync(aborted), false);

    const misuse = await StreamSink.create(fresh("vda.full.data"), metaFor(extents, disk.length));
    await assert.rejects(misuse.writeZero({ offset: 0, length: disk.length + 1, data: false }), /exceeds the disk size/);
    await misuse.abort();
    const order = await StreamSink.create(fresh("vda.full.data"), metaFor(extents, disk.length));
    await order.writeZero({ offset: MiB, length: MiB, data: false });
    await assert.rejects(order.beginData({ offset: 0, length: 10, data: true }), /not after the previous end/);
    await order.abort();
});

/** Writes a valid stream, applies `damage` to its bytes, and returns the damaged file. */
async function damaged(compress: false | number, damage: (bytes: Buffer) => Buffer): Promise<string> {
    const { disk, extents } = makeDisk();
    const { file } = await writeStream(extents, disk, { compress, maxRequestSize: MiB });
    fs.writeFileSync(file, damage(fs.readFileSync(file)));
    return file;
}

/** Offset of the nth header of `kind` after the meta frame (payload sizes from the trailer when compressed). */
function findFrame(bytes: Buffer, kind: string, nth = 0): number {
    const metaLength = parseFrameHeader(bytes).length;
    const compressed = /"compressed": \d/.test(bytes.subarray(40, 40 + metaLength).toString());
    const stored = compressed ? splitCompressed(bytes).trailer.map(entryStoredSize) : [];
    let at = 40 + metaLength + 2;
    let dataIndex = 0;
    for (;;) {
        const h = parseFrameHeader(bytes, at);
        if (h.kind === kind && nth-- === 0) return at;
        assert.notEqual(h.kind, "stop", `no ${kind} frame`);
        if (h.kind === "data") at += (compressed ? stored[dataIndex++] : h.length) + 2;
        at += 40;
    }
}

test("the source reports damage with file, offset and reason", async () => {
    await expectFormatError(await damaged(false, (b) => {
        b.write("dat?", findFrame(b, "zero"), "latin1");
        return b;
    }), /bad frame kind "dat\?"/);
    await expectFormatError(await damaged(false, (b) => b.subarray(0, findFrame(b, "data", 1) + 1000)), /data payload of \d+ bytes runs past the end of the file/);
    await expectFormatError(await damaged(false, (b) => b.subarray(0, findFrame(b, "stop"))), /missing stop frame: 0 bytes left/);
    await expectFormatError(await damaged(false, (b) => b.subarray(0, findFrame(b, "stop") + 20)), /missing stop frame: 20 bytes left/);
    await expectFormatError(await damaged(false, (b) => Buffer.concat([b, Buffer.from("x")])), /1 bytes of garbage after the stop frame/);
    await expectFormatError(await damaged(false, (b) => {
        b.write("\n\n", 40 + parseFrameHeader(b).length, "latin1");
        return b;
    }), /missing CRLF after the meta frame/);
    await expectFormatError(await damaged(false, (b) => {
        const at = findFrame(b, "data", 1);
        b[at + 40 + parseFrameHeader(b, at).length] = 0x20;
        return b;
    }), /missing CRLF after a data payload/);
    await expectFormatError(await damaged(false, (b) => {
        const text = b.toString("latin1");
        const i = text.indexOf("\"dataSize\": ") + 12;
        b[i] = b[i] === 0x31 ? 0x32 : 0x31; // same length, different number
        return b;
    }), /stop frame after \d+ data bytes, but the meta frame announces dataSize/);
    await expectFormatError(await damaged(false, (b) => {
        // second data frame moved before the first one's end
        const at = findFrame(b, "data", 1);
        encodeFrameHeader("data", 10, parseFrameHeader(b, at).length).copy(b, at);
        return b;
    }), /data frame at disk offset 10 is not after the previous frame's end/);
    await expectFormatError(await damaged(false, (b) => {
        b.write("{ \"virtualSize\": 1", 40, "latin1");
        return b;
    }), /meta frame is not valid JSON/);
    await expectFormatError(await damaged(false, (b) => {
        const text = b.toString("latin1");
        b.write("\"streamVersion\": 3", text.indexOf("\"streamVersion\": 2"), "latin1");
        return b;
    }), /at byte 40: meta key "streamVersion" must be 2, got 3/);
    await expectFormatError(await damaged(false, (b) => b.subarray(findFrame(b, "data"))), /first frame is "data", expected "meta"/);
    const empty = fresh("empty.data");
    fs.writeFileSync(empty, "");
    await expectFormatError(empty, /at byte 0: empty file/);
});

function splitCompressed(b: Buffer): { body: Buffer; trailer: TrailerEntry[] } {
    const comp = parseFrameHeader(b, b.length - 40);
    const jsonAt = b.length - 42 - comp.length;
    return { body: b.subarray(0, jsonAt), trailer: parseTrailerJson(b.subarray(jsonAt, jsonAt + comp.length)) };
}

test("the source reports damage of compressed streams", async () => {
    await expectFormatError(await damaged(2, (b) => {
        const { body, trailer } = splitCompressed(b);
        return Buffer.concat([body, encodeTrailer([...trailer, 77])]);
    }), /compression trailer lists 5 data frames, the stream has 4/);
    await expectFormatError(await damaged(2, (b) => {
        const { body, trailer } = splitCompressed(b);
        return Buffer.concat([body, encodeTrailer(trailer.slice(0, 1))]);
    }), /data frame 2 has no entry in the compression trailer \(1 entries\)/);
    await expectFormatError(await damaged(2, (b) => {
        const { body, trailer } = splitCompressed(b);
        return Buffer.concat([body, Buffer.from("junk"), encodeTrailer(trailer)]);
    }), /4 bytes of garbage after the stop frame/);
    await expectFormatError(await damaged(2, (b) => b.subarray(0, b.length - 1)), /at byte \d+: compressed stream does not end with a comp frame \(truncated\?\): bad frame kind/);
    await expectFormatError(await damaged(2, (b) => {
        const { body, trailer } = splitCompressed(b);
        const first = trailer[0] as number;
        return Buffer.concat([body, encodeTrailer([first + 1, ...trailer.slice(1)])]);
    }), /missing CRLF after a data payload/);
    await expectFormatError(await damaged(2, (b) => {
        const { body, trailer } = splitCompressed(b);
        const json = encodeTrailer(trailer);
        json[0] = 0x7b; // "{"
        return Buffer.concat([body, json]);
    }), /compression trailer is not valid JSON/);
    await expectFormatError(await damaged(2, (b) => {
        // break the lz4 header of the second frame of the multi-frame extent
        const at = findFrame(b, "data", 1) + 40;
        const { trailer } = splitCompressed(b);
        b[at + (trailer[1] as { sizes: number[] }).sizes[0]] ^= 0xff;
        return b;
    }), /no lz4 frame here/);

    // damage inside a payload is found when that chunk is read (block checksums)
    const file = await damaged(2, (b) => {
        const at = findFrame(b, "data", 0) + 40;
        b[at + 200] ^= 0x55;
        return b;
    });
    const source = await StreamSource.open(file);
    await assert.rejects(source.read({ offset: 0, length: 64 * KiB }, Buffer.alloc(64 * KiB)),
        (err: unknown) => err instanceof FormatError && /at byte \d+: lz4 frame does not decompress/.test(err.message));
    await source.close();
});

/** A raw image sink, as `-t raw` backups and raw restores make it. */
const rawSink = (file: string, size: number) => ImageSink.create(file, size, rawPlacement(size));

test("raw image sink: sparse full-size image, named only by publish, no overwrite, abort removes the partial", async () => {
    const { disk, extents } = makeDisk();
    const file = fresh("vda.raw");
    const sink = await rawSink(file, disk.length);
    await drive(sink, extents, fromBuffer(disk), MiB);
    assert.equal(fs.existsSync(file), false, "finished but not yet published");
    await sink.publish();
    assert.deepEqual(fs.readFileSync(file), disk);
    const st = fs.statSync(file);
    assert.equal(st.size, disk.length);
    assert.ok(st.blocks * 512 <= streamDataSize(extents) + 64 * KiB, `allocated ${st.blocks * 512} bytes`);
    assert.equal(fs.existsSync(`${file}.partial`), false);
    await assert.rejects(rawSink(file, disk.length), /already exists/);

    const aborted = fresh("vda.raw");
    const abortSink = await rawSink(aborted, disk.length);
    await abortSink.writeChunk({ offset: 0, length: 10 }, disk.subarray(0, 10));
    await abortSink.abort();
    await abortSink.abort();
    assert.equal(fs.existsSync(`${aborted}.partial`), false);
    assert.equal(fs.existsSync(aborted), false);

    const racing = fresh("vda.raw");
    const racingSink = await rawSink(racing, 100);
    fs.writeFileSync(racing, "mine");
    await racingSink.finish();
    await assert.rejects(racingSink.publish(), /already exists/);
    await racingSink.abort();
    assert.equal(fs.readFileSync(racing, "utf8"), "mine");
    assert.equal(fs.existsSync(`${racing}.partial`), false);
});

test("restore path: stream source -> raw sink through the copy pipeline", async () => {
    const { copyExtents } = await import("../../helper/engine/copy.ts");
    const { disk, extents } = makeDisk();
    for (const compress of [false, 2] as const) {
        const { file } = await writeStream(extents, disk, { compress, maxRequestSize: MiB });
        const source: Source & { extents: readonly Extent[] } = await StreamSource.open(file);
        const target = fresh("restored.raw");
        const sink = await rawSink(target, source.size);
        await copyExtents([...source.extents], source, sink, { maxChunk: 256 * KiB, maxInFlight: 4 });
        await sink.publish();
        await source.close();
        assert.deepEqual(fs.readFileSync(target), disk, `compress=${compress}`);
    }
});

test("throughput: 1.3 GB uncompressed through the stream sink (set VNBT_BENCH=1)", { skip: process.env.VNBT_BENCH !== "1" }, async () => {
    const chunk = 32 * MiB;
    const total = 40 * chunk; // 1.34 GB
    const buf = crypto.randomBytes(chunk);
    const extents: Extent[] = [{ offset: 0, length: total, data: true }];
    const file = fresh("bench.full.data");
    const sink = await StreamSink.create(file, metaFor(extents, total));
    const started = process.hrtime.bigint();
    await sink.beginData(extents[0]);
    for (let at = 0; at < total; at += chunk) await sink.writeChunk({ offset: at, length: chunk }, buf);
    await sink.endData(extents[0]);
    await sink.finish();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const rate = total / seconds / 1e9;
    console.log(`stream sink: ${(total / 1e9).toFixed(2)} GB in ${seconds.toFixed(2)} s = ${rate.toFixed(2)} GB/s (fsync included)`);
    fs.rmSync(file);
    fs.rmSync(`${file}.chksum`);
    assert.ok(rate > 1, `${rate.toFixed(2)} GB/s`);
});

test("a file's layout is remembered only while the file stays the same: a changed file of the same size is scanned again", async () => {
    const { disk, extents } = makeDisk();
    const { file } = await writeStream(extents, disk);
    // Two streams of the same size, different layouts: the second moves one data frame's bytes.
    const moved = extents.map(e => ({ ...e }));
    const shift = (e: Extent, i: number): Extent =>
        i === 1 ? { ...e, length: e.length - 512 } : i === 2 ? { ...e, offset: e.offset - 512 } : i === 3 ? { ...e, offset: e.offset - 512, length: e.length + 512 } : e;
    const { file: other } = await writeStream(moved.map(shift), disk);
    assert.equal(fs.statSync(file).size, fs.statSync(other).size);
    // Only a file unchanged for 2 s is remembered.
    await new Promise(resolve => setTimeout(resolve, 2100));
    const first = await StreamSource.open(file);
    const before = first.extents.map(e => [e.offset, e.length, e.data]);
    await first.close();
    // Rewritten in place with the other stream (same size, same inode): its change time moves on.
    fs.writeFileSync(file, fs.readFileSync(other));
    const again = await StreamSource.open(file);
    try {
        assert.notDeepEqual(again.extents.map(e => [e.offset, e.length, e.data]), before);
        assert.deepEqual(again.extents.map(e => [e.offset, e.length, e.data]), (await readLayout(other)));
        assert.ok((await readAllData(again, MiB)).equals(await readAllData(await StreamSource.open(other), MiB)));
    } finally {
        await again.close();
    }
});

async function readLayout(file: string) {
    const s = await StreamSource.open(file);
    try {
        return s.extents.map(e => [e.offset, e.length, e.data]);
    } finally {
        await s.close();
    }
}
