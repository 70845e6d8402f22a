// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import { planConsolidation, pointForKeepLast, isPointFile } from "../../../helper/consolidate/plan.ts";
import { checkKeepPoints } from "../../../helper/protocol/retention-rules.ts";
import { diff, full, inc } from "../restore/backup-files.ts";

const cpt = (n: number) => Array.from({ length: n + 1 }, (_, i) => `virtnbdbackup.${i}`);

test("plan: every disk's files up to the point merge into <dev>.full.<point>.data; older diffs and per-point files go", () => {
    const files = [full("vda"), full("vdb"), inc(1, "vda"), inc(1, "vdb"), diff(1, 1_800_000_000, "vda"), inc(2, "vda"), inc(2, "vdb"), inc(3, "vda"), inc(3, "vdb")];
    const names = [...files.map(f => f.name), "vda.full.data.chksum", "vmconfig.virtnbdbackup.0.xml", "vmconfig.virtnbdbackup.2.xml",
        "vda.virtnbdbackup.1.qcow.json", "OVMF_VARS.fd.virtnbdbackup.1", "OVMF_VARS.fd.virtnbdbackup.11", "vm.cpt", "backup.full.12062026100000.log", "mine.txt"];
    const plan = planConsolidation(files, cpt(3), names, "virtnbdbackup.2");
    assert.deepEqual(plan.disks.map(d => [d.dev, d.output, d.members.map(m => m.name), d.next]), [
        ["vda", "vda.full.virtnbdbackup.2.data", ["vda.full.data", "vda.inc.virtnbdbackup.1.data", "vda.inc.virtnbdbackup.2.data"], "vda.inc.virtnbdbackup.3.data"],
        ["vdb", "vdb.full.virtnbdbackup.2.data", ["vdb.full.data", "vdb.inc.virtnbdbackup.1.data", "vdb.inc.virtnbdbackup.2.data"], "vdb.inc.virtnbdbackup.3.data"],
    ]);
    assert.deepEqual(plan.dropped, ["virtnbdbackup.0", "virtnbdbackup.1", "1800000000"]);
    // Oldest files of every disk first; the point's own files, the newer ones, logs and a user's file stay.
    assert.deepEqual(plan.removedFiles, [
        "vda.full.data", "vda.full.data.chksum", "vdb.full.data", "vda.inc.virtnbdbackup.1.data", "vdb.inc.virtnbdbackup.1.data",
        "vda.diff.1800000000.data", "vdb.inc.virtnbdbackup.2.data", "vda.inc.virtnbdbackup.2.data",
        "vmconfig.virtnbdbackup.0.xml", "vda.virtnbdbackup.1.qcow.json", "OVMF_VARS.fd.virtnbdbackup.1",
    ].sort((a, b) => plan.removedFiles.indexOf(a) - plan.removedFiles.indexOf(b)));
    assert.equal(plan.removedFiles.length, 11);
    assert.equal(plan.removedFiles[0], "vda.full.data");
});

test("plan refusals: the newest checkpoint, unknown names, unfinished files, a disk without the point", () => {
    const files = [full(), inc(1), inc(2)];
    const names = files.map(f => f.name);
    assert.throws(() => planConsolidation(files, cpt(2), names, "virtnbdbackup.2"), /newest/);
    assert.throws(() => planConsolidation(files, cpt(2), names, "../x"), /not a checkpoint name/);
    assert.throws(() => planConsolidation(files, cpt(2), names, "virtnbdbackup.7"), /not in the chain's checkpoint list/);
    assert.throws(() => planConsolidation(files, null, names, "virtnbdbackup.1"), /no checkpoint list/);
    assert.throws(() => planConsolidation(files, cpt(2), [...names, "vda.inc.virtnbdbackup.3.data.partial"], "virtnbdbackup.1"), /unfinished/);
    assert.throws(() => planConsolidation(files, cpt(2), names, "virtnbdbackup.0"), /oldest point/);
    assert.throws(() => planConsolidation([...files, full("vdb")], cpt(2), names, "virtnbdbackup.1"), /disk vdb cannot be restored to virtnbdbackup.1/);
});

test("keep the last N points: the point the new full restores to", () => {
    const files = [full(), inc(1), inc(2), inc(3), inc(4)];
    assert.equal(pointForKeepLast(files, cpt(4), 2), "virtnbdbackup.3");
    assert.equal(pointForKeepLast(files, cpt(4), 4), "virtnbdbackup.1");
    assert.equal(pointForKeepLast(files, cpt(4), 5), undefined);
    assert.equal(pointForKeepLast(files, cpt(4), 50), undefined);
    // Keeping only the newest point would merge it: the newest checkpoint stays an incremental.
    assert.equal(pointForKeepLast(files, cpt(4), 1), undefined);
    assert.throws(() => pointForKeepLast(files, cpt(4), 0), /from 1/);
});

test("keep-points policy: whole numbers from 1 to 10000, empty or all keeps all", () => {
    assert.deepEqual(checkKeepPoints("14"), { keep: 14 });
    assert.deepEqual(checkKeepPoints(""), { keep: null });
    assert.deepEqual(checkKeepPoints("all"), { keep: null });
    assert.deepEqual(checkKeepPoints("0"), { problem: "too-small" });
    assert.deepEqual(checkKeepPoints("-2"), { problem: "too-small" });
    assert.deepEqual(checkKeepPoints("10001"), { problem: "too-big" });
    assert.deepEqual(checkKeepPoints("1e3"), { problem: "not-a-number" });
});

test("a point's own files: config, qemu-img info, boot file copies; never data, logs or another point's", () => {
    assert.ok(isPointFile("vmconfig.virtnbdbackup.1.xml", ["virtnbdbackup.1"]));
    assert.ok(isPointFile("vda.virtnbdbackup.1.qcow.json", ["virtnbdbackup.1"]));
    assert.ok(isPointFile("OVMF_VARS.fd.virtnbdbackup.1", ["virtnbdbackup.1"]));
    assert.ok(!isPointFile("OVMF_VARS.fd.virtnbdbackup.11", ["virtnbdbackup.1"]));
    assert.ok(!isPointFile("vda.inc.virtnbdbackup.1.data", ["virtnbdbackup.1"]));
    assert.ok(!isPointFile("vda.inc.virtnbdbackup.1.data.chksum", ["virtnbdbackup.1"]));
    assert.ok(!isPointFile("vmconfig.virtnbdbackup.2.xml", ["virtnbdbackup.1"]));
});
