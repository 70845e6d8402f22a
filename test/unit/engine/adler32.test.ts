// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import { Adler32, adler32 } from "../../../helper/engine/adler32.ts";

function pythonAdler32(data: Buffer): number {
    const script = "import sys, zlib; print(zlib.adler32(sys.stdin.buffer.read()))";
    return Number(execFileSync("/usr/bin/python3", ["-c", script], { input: data, encoding: "utf8", maxBuffer: 1 << 20 }).trim());
}

test("known values", () => {
    assert.equal(adler32(Buffer.alloc(0)), 1);
    assert.equal(adler32(Buffer.from("abc")), 0x024d0127);
    assert.equal(adler32(Buffer.from("Wikipedia")), 0x11e60398);
});

test("matches Python's zlib.adler32", () => {
    const inputs = [
        Buffer.alloc(1, 0xff),
        Buffer.alloc(5552, 0xff), // zlib's reduction block
        Buffer.alloc(5553, 0xff),
        Buffer.alloc(5 * 1024 * 1024, 0xff), // largest sums between reductions
        crypto.randomBytes(1234567),
        Buffer.concat([Buffer.alloc(70000), crypto.randomBytes(9)]),
    ];
    for (const data of inputs) {
        const ours = new Adler32().update(data).digest();
        assert.equal(ours, pythonAdler32(data), `python, ${data.length} bytes`);
    }
});

test("streams across uneven pieces and unaligned views", () => {
    const data = crypto.randomBytes(300001);
    const whole = adler32(data);
    const acc = new Adler32();
    let at = 0;
    for (const n of [1, 7, 3799, 3801, 65536, 3, 100000]) {
        acc.update(data.subarray(at, at + n));
        at += n;
    }
    acc.update(data.subarray(at));
    assert.equal(acc.digest(), whole);
    assert.equal(acc.digest(), pythonAdler32(data));
});
