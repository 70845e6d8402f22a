// SPDX-License-Identifier: GPL-3.0-or-later
// The streamed stdout of `helper consolidate --yes --progress` as the page's Delete… reads it (src/helper-answer.ts).
import { it } from "node:test";
import assert from "node:assert/strict";
import { HelperError, MergeOutput } from "../../../src/helper-answer.ts";
import type { MergeProgress } from "../../../src/backup-types.ts";

const RESULT = { chain: "", folder: "/b", point: "virtnbdbackup.2", dryRun: false, dropped: ["virtnbdbackup.1"],
    removed: ["vda.inc.virtnbdbackup.1.data"], removedBytes: 10, written: ["vda.inc.virtnbdbackup.2.data"], writtenBytes: 8, freed: 2 };

it("passes the merge's progress lines on and returns the answer", () => {
    const seen: MergeProgress[] = [];
    const out = new MergeOutput(p => seen.push(p));
    const line = (done: number) => JSON.stringify({ event: "progress", chain: "", point: "virtnbdbackup.2", file: "vda.inc.virtnbdbackup.2.data",
                                                    index: 0, count: 1, done, total: 8 });
    out.push(line(0) + "\n" + line(4).slice(0, 20));
    out.push(line(4).slice(20) + "\n" + line(8) + "\n" + JSON.stringify(RESULT));
    assert.deepEqual(seen.map(p => [p.file, p.done, p.total]), [0, 4, 8].map(d => ["vda.inc.virtnbdbackup.2.data", d, 8]));
    assert.deepEqual(out.finish().dropped, ["virtnbdbackup.1"]);
});

it("refuses a progress line or answer of another shape", () => {
    assert.throws(() => new MergeOutput(() => {}).push(JSON.stringify({ event: "progress", index: 0, count: 1, done: 0, total: 1 }) + "\n"), HelperError);
    const bad = new MergeOutput(() => {});
    bad.push(JSON.stringify({ ...RESULT, dropped: [1] }));
    assert.throws(() => bad.finish(), HelperError);
});
