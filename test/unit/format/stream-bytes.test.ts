// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeFrameHeader, encodeMeta, TERM } from "../../../helper/format/index.ts";
import { knownMeta, knownStream } from "./known-stream.ts";

test("the format functions assemble the known stream byte for byte", () => {
    const json = encodeMeta(knownMeta);
    assert.equal(json.length, 0x138);
    assert.equal(knownStream.subarray(0, 40).toString("latin1"), "meta 0000000000000000 0000000000000138\r\n");
    const assembled = Buffer.concat([
        encodeFrameHeader("meta", 0, json.length), json, TERM,
        encodeFrameHeader("data", 0, 4), Buffer.from("abcd"), TERM,
        encodeFrameHeader("zero", 4, 8),
        encodeFrameHeader("data", 12, 4), Buffer.from("wxyz"), TERM,
        encodeFrameHeader("stop", 0, 0),
    ]);
    assert.deepEqual(assembled, knownStream);
});
