// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
    encodeTrailer, encodeTrailerJson, entryStoredSize, FormatError, parseFrameHeader, parseTrailerJson, trailerEntryFor,
    type TrailerEntry,
} from "../../../helper/format/index.ts";

const MiB = 1024 * 1024;
const entries: TrailerEntry[] = [4113, { sizes: [4512301, 4512250] }, 17, { sizes: [99] }];

test("encodes the array like Python's json.dumps, spacing included", () => {
    assert.equal(encodeTrailerJson(entries), "[4113, {\"9024551\": [4512301, 4512250]}, 17, {\"99\": [99]}]");
    const script = "import sys; sys.stdout.write(__import__('json').dumps([4113, {9024551: [4512301, 4512250]}, 17, {99: [99]}]))";
    assert.equal(execFileSync("/usr/bin/python3", ["-c", script], { encoding: "utf8" }), encodeTrailerJson(entries));
    assert.equal(encodeTrailerJson([]), "[]");
});

test("appends CRLF and the comp frame with the JSON length", () => {
    const bytes = encodeTrailer([4113, { sizes: [4512301, 4512250] }]);
    const json = "[4113, {\"9024551\": [4512301, 4512250]}]";
    assert.equal(bytes.toString("latin1"), `${json}\r\ncomp 0000000000000000 ${json.length.toString(16).padStart(16, "0")}\r\n`);
    assert.deepEqual(parseFrameHeader(bytes, bytes.length - 40), { kind: "comp", start: 0, length: json.length });
});

test("round-trips", () => {
    assert.deepEqual(parseTrailerJson(encodeTrailerJson(entries)), entries);
    assert.deepEqual(parseTrailerJson(Buffer.from("[]")), []);
    assert.equal(entryStoredSize({ sizes: [1, 2, 3] }), 6);
    assert.equal(entryStoredSize(7), 7);
});

test("picks the form the other tool's reader expects", () => {
    assert.equal(trailerEntryFor(4096, [100]), 100);
    assert.deepEqual(trailerEntryFor(32 * MiB, [100]), { sizes: [100] }); // >= max request size: list, even of one
    assert.deepEqual(trailerEntryFor(40 * MiB, [100, 20]), { sizes: [100, 20] });
    assert.deepEqual(trailerEntryFor(8192, [1, 2], 4096), { sizes: [1, 2] });
    assert.throws(() => trailerEntryFor(4096, [1, 2]), /must be one lz4 frame, got 2/);
});

test("rejects malformed trailers", () => {
    const bad = (text: string, re: RegExp) =>
        assert.throws(() => parseTrailerJson(text), (err: unknown) => err instanceof FormatError && re.test(err.message), text);
    bad("[1, 2", /compression trailer is not valid JSON/);
    bad("{\"1\": [1]}", /not a JSON array/);
    bad("[0]", /entry 0 is neither a size nor/);
    bad("[5, -1]", /entry 1 is neither/);
    bad("[\"5\"]", /entry 0 is neither/);
    bad("[1.5]", /entry 0 is neither/);
    bad("[{\"3\": [1, 2], \"4\": [4]}]", /entry 0 is neither/);
    bad("[{\"3\": []}]", /entry 0 is neither/);
    bad("[{\"x\": [3]}]", /entry 0 is neither/);
    bad("[{\"4\": [1, 2]}]", /entry 0: total "4" is not the sum 3/);
});
