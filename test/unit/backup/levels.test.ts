// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import { BackupRefusedError, planLevel } from "../../../helper/backup/levels.ts";
import { checkpointIndex } from "../../../helper/format/names.ts";

const now = new Date(1_700_000_000_000);
const empty = { checkpoints: [], hasData: false, partials: [] };
const chain = { checkpoints: ["virtnbdbackup.0", "virtnbdbackup.1"], hasData: true, partials: [] };

test("full and copy into an empty folder", () => {
    assert.deepEqual(planLevel("full", empty, { online: true, now }),
        { level: "full", checkpointName: "virtnbdbackup.0", parentCheckpoint: "", createCheckpoint: true, ident: "virtnbdbackup.0", notes: [] });
    const copy = planLevel("copy", empty, { online: true, now });
    assert.equal(copy.ident, "copy");
    assert.equal(copy.createCheckpoint, false);
});

test("full or copy into a folder with a backup is refused", () => {
    assert.throws(() => planLevel("full", chain, { online: true, now }), BackupRefusedError);
    assert.throws(() => planLevel("copy", chain, { online: true, now }), /empty folder/);
});

test("auto chooses full for an empty folder and inc otherwise", () => {
    assert.equal(planLevel("auto", empty, { online: true, now }).level, "full");
    const inc = planLevel("auto", chain, { online: true, now });
    assert.equal(inc.level, "inc");
    assert.equal(inc.checkpointName, "virtnbdbackup.2");
    assert.equal(inc.parentCheckpoint, "virtnbdbackup.1");
});

test("inc and diff need a chain; diff makes no checkpoint and is named by time", () => {
    assert.throws(() => planLevel("inc", empty, { online: true, now }), /full backup .* first/);
    assert.throws(() => planLevel("diff", empty, { online: true, now }), /full backup .* first/);
    const diff = planLevel("diff", chain, { online: true, now });
    assert.deepEqual(diff, { level: "diff", checkpointName: "virtnbdbackup.2", parentCheckpoint: "virtnbdbackup.1", createCheckpoint: false, ident: "1700000000", notes: [] });
});

test("offline: full becomes copy, inc becomes a differential that overwrites nothing", () => {
    assert.equal(planLevel("full", empty, { online: false, now }).level, "copy");
    const inc = planLevel("inc", chain, { online: false, now });
    assert.equal(inc.level, "diff");
    assert.equal(inc.ident, "1700000000");
    assert.equal(inc.createCheckpoint, false);
});

test("leftover partial files and a broken checkpoint list stop an incremental", () => {
    assert.throws(() => planLevel("inc", { ...chain, partials: ["vda.inc.virtnbdbackup.2.data.partial"] }, { online: true, now }), /unfinished/);
    assert.throws(() => planLevel("inc", { ...chain, checkpoints: ["virtnbdbackup.0", "virtnbdbackup.5"] }, { online: true, now }), /position 1/);
});

test("checkpoint names", () => {
    assert.equal(checkpointIndex("virtnbdbackup.12"), 12);
    assert.equal(checkpointIndex("mine.1"), undefined);
    assert.equal(checkpointIndex("virtnbdbackup.1x"), undefined);
});
