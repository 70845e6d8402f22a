// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeFrameHeader, FormatError, FRAME_HEADER_LENGTH, isTerm, parseFrameHeader, writeFrameHeader } from "../../../helper/format/index.ts";

const ascii = (s: string) => Buffer.from(s, "latin1");

test("encodes the 40-byte header the other tool writes", () => {
    assert.equal(encodeFrameHeader("data", 0x100000, 4096).toString("latin1"), "data 0000000000100000 0000000000001000\r\n");
    assert.equal(encodeFrameHeader("stop", 0, 0).toString("latin1"), "stop 0000000000000000 0000000000000000\r\n");
    assert.equal(encodeFrameHeader("meta", 0, 0x1ab).length, FRAME_HEADER_LENGTH);
    const buf = Buffer.alloc(50, 0x2e);
    writeFrameHeader(buf, 5, "zero", 1, 2);
    assert.equal(buf.toString("latin1"), ".....zero 0000000000000001 0000000000000002\r\n.....");
});

test("round-trips every kind and the largest safe integer", () => {
    for (const kind of ["meta", "data", "zero", "stop", "comp"] as const) {
        for (const [start, length] of [[0, 0], [1, 2], [0xffffffff, 0x100000000], [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1]]) {
            assert.deepEqual(parseFrameHeader(encodeFrameHeader(kind, start, length)), { kind, start, length });
        }
    }
    assert.equal(encodeFrameHeader("data", Number.MAX_SAFE_INTEGER, 0).toString("latin1"), "data 001fffffffffffff 0000000000000000\r\n");
});

test("parses at an offset and accepts upper-case hex like int(x, 16)", () => {
    const buf = Buffer.concat([ascii("xyz"), ascii("data 00000000000000AB 00000000000000ff\r\n")]);
    assert.deepEqual(parseFrameHeader(buf, 3), { kind: "data", start: 0xab, length: 0xff });
});

test("refuses values it cannot represent", () => {
    assert.throws(() => encodeFrameHeader("data", Number.MAX_SAFE_INTEGER + 1, 0), FormatError);
    assert.throws(() => encodeFrameHeader("data", -1, 0), /start -1/);
    assert.throws(() => encodeFrameHeader("data", 0, 1.5), /length 1.5/);
    assert.throws(() => parseFrameHeader(ascii("data 0020000000000000 0000000000000000\r\n")), /exceeds 9007199254740991/);
    assert.throws(() => parseFrameHeader(ascii("data 0000000000000000 ffffffffffffffff\r\n")), /length 0xffffffffffffffff exceeds/);
});

test("rejects malformed headers with a clear reason", () => {
    const cases: [string, RegExp][] = [
        ["data 0000000000000000 00000000000000", /truncated frame header: 36 of 40 bytes/],
        ["junk 0000000000000000 0000000000000000\r\n", /bad frame kind "junk"/],
        ["DATA 0000000000000000 0000000000000000\r\n", /bad frame kind "DATA"/],
        ["data_0000000000000000 0000000000000000\r\n", /malformed data frame header/],
        ["data 0000000000000000_0000000000000000\r\n", /malformed data frame header/],
        ["data 0000000000000000 0000000000000000\n\n", /malformed data frame header/],
        ["data 000000000000000g 0000000000000000\r\n", /frame start "000000000000000g" is not 16 hex digits/],
        ["data 0000000000000000  000000000000000\r\n", /frame length " 000000000000000" is not 16 hex digits/],
        ["data 0x00000000000000 0000000000000000\r\n", /not 16 hex digits/],
    ];
    for (const [text, re] of cases) {
        assert.throws(() => parseFrameHeader(ascii(text)), (err: unknown) => err instanceof FormatError && re.test(err.message), text);
    }
});

test("isTerm checks for CRLF", () => {
    assert.equal(isTerm(ascii("ab\r\n"), 2), true);
    assert.equal(isTerm(ascii("ab\r"), 2), false);
    assert.equal(isTerm(ascii("\n\r")), false);
});

test("FormatError names file and offset", () => {
    const err = new FormatError("bad thing", { file: "/b/vda.full.data", offset: 40 });
    assert.equal(err.message, "/b/vda.full.data: at byte 40: bad thing");
    assert.equal(new FormatError("x").message, "x");
    assert.equal(new FormatError("x").locate({ file: "f", offset: 0 }).message, "f: at byte 0: x");
});
