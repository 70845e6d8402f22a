// SPDX-License-Identifier: GPL-3.0-or-later
// A file's content checks as verify makes them ("always": every lz4 frame decoded beside the sum) and as a
// restore makes them ("unless-summed": the copy decodes the frames it uses; the others are decoded only where
// no matching checksum vouches for the file), on real lz4 stream files written by our sink.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { StreamSink } from "../../../helper/engine/stream-sink.ts";
import { entryStoredSize, FRAME_HEADER_LENGTH, parseFrameHeader, parseTrailerJson } from "../../../helper/format/index.ts";
import { checkContent, DecodeQueue } from "../../../helper/restore/check-content.ts";
import { fileAdler32 } from "../../../helper/restore/checksum.ts";
import { feedSink } from "../../lib/feed-sink.ts";
import { metaFor } from "../format/known-stream.ts";

const KiB = 1024;
const SIZE = 512 * KiB;
let root: string;
let serial = 0;

before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-content-`));
});
after(() => {
    fs.rmSync(root, { recursive: true, force: true });
});

/** An lz4 full of two data extents (and its .chksum), from random data. */
async function lz4File(): Promise<string> {
    const file = path.join(root, `f${++serial}.full.data`);
    const disk = crypto.randomBytes(SIZE);
    const extents = [{ offset: 0, length: 64 * KiB, data: true }, { offset: 64 * KiB, length: 192 * KiB, data: false }, { offset: 256 * KiB, length: 256 * KiB, data: true }];
    await feedSink(await StreamSink.create(file, metaFor(extents, SIZE, { compressed: 2 }), { compress: 2 }), extents, disk);
    assert.ok(fs.existsSync(`${file}.chksum`), "the sink writes a .chksum");
    return file;
}

/** Flips a bit inside the last data frame's lz4 payload (stored lengths from the trailer, as readers find them). */
function breakLastFrame(file: string): void {
    const buf = fs.readFileSync(file);
    const comp = parseFrameHeader(buf, buf.length - FRAME_HEADER_LENGTH);
    const trailerAt = buf.length - FRAME_HEADER_LENGTH - 2 - comp.length;
    const stored = parseTrailerJson(buf.subarray(trailerAt, trailerAt + comp.length)).map(entryStoredSize);
    let at = FRAME_HEADER_LENGTH + parseFrameHeader(buf, 0).length + 2;
    let payload = -1;
    let frames = 0;
    for (let h = parseFrameHeader(buf, at); h.kind !== "stop"; h = parseFrameHeader(buf, at)) {
        if (h.kind === "zero") {
            at += FRAME_HEADER_LENGTH;
            continue;
        }
        payload = at + FRAME_HEADER_LENGTH;
        at = payload + stored[frames++]! + 2;
    }
    assert.equal(frames, 2);
    buf[payload + 40] ^= 0x20;
    fs.writeFileSync(file, buf);
}

test("an intact file: verify decodes every frame, a restore's check only sums it", async () => {
    const file = await lz4File();
    assert.deepEqual(await checkContent(file), { checksum: "ok", lz4: true, unchecked: undefined });
    assert.deepEqual(await checkContent(file, { frames: "unless-summed" }), { checksum: "ok", lz4: false });
});

test("a wrong checksum: the restore's check decodes the frames and says what verify says", async () => {
    const file = await lz4File();
    breakLastFrame(file);
    const verify = await checkContent(file);
    assert.match(verify.dataError ?? "", /lz4/);
    assert.match(verify.checksumError ?? "", /checksum mismatch/);
    assert.deepEqual(await checkContent(file, { frames: "unless-summed" }), verify);
});

test("no checksum file: the frames are all there is to check, for a restore too", async () => {
    const file = await lz4File();
    breakLastFrame(file);
    fs.rmSync(`${file}.chksum`);
    const verify = await checkContent(file);
    assert.equal(verify.checksum, "missing");
    assert.match(verify.dataError ?? "", /lz4/);
    assert.deepEqual(await checkContent(file, { frames: "unless-summed" }), verify);
});

test("a frame written broken into a file whose checksum matches: verify finds it, a restore's check leaves it to the copy", async () => {
    const file = await lz4File();
    breakLastFrame(file);
    fs.writeFileSync(`${file}.chksum`, String(await fileAdler32(file)));
    assert.match((await checkContent(file)).dataError ?? "", /lz4/);
    assert.deepEqual(await checkContent(file, { frames: "unless-summed" }), { checksum: "ok", lz4: false });
});

test("DecodeQueue runs one decode at a time, in the order asked, past failures", async () => {
    const queue = new DecodeQueue();
    const events: string[] = [];
    const step = (name: string, fail = false) => queue.run(async () => {
        events.push(`${name} start`);
        await new Promise(resolve => setTimeout(resolve, 5));
        events.push(`${name} end`);
        if (fail)
            throw new Error(name);
        return name;
    });
    const results = await Promise.allSettled([step("a"), step("b", true), step("c")]);
    assert.deepEqual(events, ["a start", "a end", "b start", "b end", "c start", "c end"]);
    assert.deepEqual(results.map(r => r.status), ["fulfilled", "rejected", "fulfilled"]);
});
