// SPDX-License-Identifier: GPL-3.0-or-later
// The streamed stdout of `helper verify-restore-point` as the page reads it (src/helper-answer.ts).
import { it } from "node:test";
import assert from "node:assert/strict";
import { HelperError, VerifyOutput } from "../../../src/helper-answer.ts";
import type { VerifyProgress } from "../../../src/backup-types.ts";

const RESULT = { event: "result", point: "virtnbdbackup.1", folder: "/b", ok: false, problems: [],
    files: [{ file: "vda.full.data", dev: "vda", level: "full", size: 10, status: "ok" },
        { file: "vda.inc.virtnbdbackup.1.data", dev: "vda", level: "inc", size: 5, status: "mismatch", detail: "x" }] };

it("passes progress lines on as they complete, across chunk borders, and returns the result", () => {
    const seen: VerifyProgress[] = [];
    const out = new VerifyOutput(p => seen.push(p));
    const p1 = JSON.stringify({ event: "progress", file: "vda.full.data", index: 0, count: 2, done: 0, total: 15 });
    const p2 = JSON.stringify({ event: "progress", file: null, index: 2, count: 2, done: 15, total: 15 });
    out.push(p1.slice(0, 10));
    assert.equal(seen.length, 0);
    out.push(p1.slice(10) + "\n" + p2 + "\n" + JSON.stringify(RESULT).slice(0, 30));
    assert.deepEqual(seen.map(p => p.done), [0, 15]);
    out.push(JSON.stringify(RESULT).slice(30));  // no final newline
    const answer = out.finish();
    assert.equal(answer.ok, false);
    assert.deepEqual(answer.files.map(f => f.status), ["ok", "mismatch"]);
});

it("refuses output that is not the expected answer", () => {
    assert.throws(() => new VerifyOutput(() => {}).finish(), HelperError);
    const bad = new VerifyOutput(() => {});
    bad.push(JSON.stringify({ ...RESULT, files: [{ ...RESULT.files[0], status: "great" }] }));
    assert.throws(() => bad.finish(), /status is not one of/);
    assert.throws(() => new VerifyOutput(() => {}).push("not json\n"), /not JSON/);
});
