// SPDX-License-Identifier: GPL-3.0-or-later
// adler32 against Python's zlib.adler32: sizes around libdeflate's vector widths and zlib's 5552-byte
// reduction block, explicit seeds, and chaining.
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { adler32 } from "codec-node";
import { MiB, pythonAdler32, text } from "./helpers.ts";

test("known values", () => {
    assert.equal(adler32(Buffer.alloc(0)), 1);
    assert.equal(adler32(Buffer.from("abc")), 0x024d0127);
    assert.equal(adler32(Buffer.from("Wikipedia")), 0x11e60398);
    assert.equal(adler32(new Uint8Array(0), 0xdeadbeef), 0xdeadbeef); // nothing to add: the seed itself
});

test("matches zlib.adler32 for many sizes", () => {
    const inputs = [
        Buffer.alloc(1, 0xff), crypto.randomBytes(15), crypto.randomBytes(31), crypto.randomBytes(63),
        crypto.randomBytes(64), crypto.randomBytes(65), Buffer.alloc(5552, 0xff), Buffer.alloc(5553, 0xff),
        crypto.randomBytes(1234567), text(777777),
        Buffer.alloc(5 * MiB, 0xff), // worst case for the running sums before a reduction
        Buffer.concat([Buffer.alloc(70000), crypto.randomBytes(9)]),
    ];
    for (const data of inputs) assert.equal(adler32(data), pythonAdler32(data), `${data.length} bytes`);
});

test("seeds and chaining: adler32(b, adler32(a)) === adler32(a + b)", () => {
    const data = crypto.randomBytes(300001);
    for (const seed of [0, 1, 12345, 0xfff0fff0, 0xffffffff]) {
        const piece = data.subarray(0, 99999);
        assert.equal(adler32(piece, seed), pythonAdler32(piece, seed), `seed ${seed}`);
    }
    let sum = 1;
    let at = 0;
    for (const n of [1, 7, 3799, 5553, 65536, 3, 100000]) {
        sum = adler32(data.subarray(at, at + n), sum);
        at += n;
    }
    sum = adler32(data.subarray(at), sum);
    assert.equal(sum, adler32(data));
    assert.equal(sum, pythonAdler32(data));
});

test("sums unaligned views of a larger buffer", () => {
    const backing = crypto.randomBytes(100003);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 3, 100000);
    assert.equal(adler32(view), pythonAdler32(view));
});

test("rejects bad arguments with TypeError / RangeError", () => {
    assert.throws(() => adler32("abc" as unknown as Uint8Array), { name: "TypeError", code: "ERR_INVALID_ARG_TYPE" });
    assert.throws(() => adler32(new Uint16Array(4) as unknown as Uint8Array), { name: "TypeError" });
    assert.throws(() => adler32(Buffer.alloc(1), "1" as unknown as number), { name: "TypeError" });
    assert.throws(() => adler32(Buffer.alloc(1), -1), { name: "RangeError", code: "ERR_OUT_OF_RANGE" });
    assert.throws(() => adler32(Buffer.alloc(1), 2 ** 32), { name: "RangeError" });
    assert.throws(() => adler32(Buffer.alloc(1), 1.5), { name: "RangeError" });
});
