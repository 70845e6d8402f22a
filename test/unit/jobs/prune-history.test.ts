// SPDX-License-Identifier: GPL-3.0-or-later
// The pruning after each scheduled backup in the history: recorded only when it removed something or failed.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readHistory, readRunLog } from "../../../helper/jobs/history.ts";
import { recordScheduledPrune } from "../../../helper/jobs/prune-history.ts";
import type { PruneAnswer } from "../../../helper/jobs/prune.ts";

const UUID = "0f0e0d0c-0b0a-0908-0706-050403020100";
const answer = (removed: PruneAnswer["removed"]): PruneAnswer =>
    ({ folder: "/srv/b", keep: 2, dryRun: false, removed, kept: ["c2", "c3"], freed: removed.reduce((s, c) => s + c.bytes, 0) });

test("a scheduled prune that removes nothing leaves no record; one that removes, or fails, does", async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-prune-history-")), "history");
    assert.deepEqual((await recordScheduledPrune(UUID, async () => answer([]), dir)).removed, []);
    assert.deepEqual(readHistory(UUID, dir), [], "nothing removed: no record");

    await recordScheduledPrune(UUID, async () => answer([{ name: "", folder: "/srv/b", files: ["vda.full.data"], bytes: 4096 }]), dir);
    const [removed] = readHistory(UUID, dir);
    assert.deepEqual([removed!.type, removed!.kind, removed!.result, removed!.bytes, removed!.point], ["prune", "scheduled", "ok", 4096, "(folder itself)"]);
    assert.match(readRunLog(UUID, removed!.id, dir), /removed \(folder itself\): 1 file\(s\), 4096 bytes/);

    await assert.rejects(recordScheduledPrune(UUID, async () => { throw new Error("EACCES on c1") }, dir), /EACCES/);
    const records = readHistory(UUID, dir);
    assert.equal(records.length, 2);
    assert.deepEqual([records[0]!.result, records[0]!.error], ["failed", "EACCES on c1"]);
});
