// SPDX-License-Identifier: GPL-3.0-or-later
// Events of `virtnbdrestore --json` reduced into the restore job's state file, and how the job ends.
import { it } from "node:test";
import assert from "node:assert/strict";
import { applyRestoreEvent, finishRestoreState, initialRestoreState, type RestoreCliEvent } from "../../../helper/jobs/restore-state.ts";
import { isRestoreCli } from "../../../helper/jobs/cancel.ts";
import { parseJobStatus } from "../../../src/helper-answer.ts";
import type { RestoreJobState } from "../../../helper/protocol/job-types.ts";

const JOB = {
    id: "r1", domain: "vm1", uuid: "11111111-2222-3333-4444-555555555555", folder: "/srv/b", point: "virtnbdbackup.1",
    target: "/srv/r", define: true, name: "restore_vm1",
};

function run(events: RestoreCliEvent[], start = 1000): RestoreJobState {
    return events.reduce((s, e, i) => applyRestoreEvent(s, e, start + (i + 1) * 100), initialRestoreState(JOB, start));
}

const PLAN: RestoreCliEvent = { event: "plan", disks: [
    { disk: "vda", files: ["vda.full.data", "vda.inc.virtnbdbackup.1.data"], output: "/srv/r/vda.qcow2", total: 300 },
    { disk: "vdb", files: ["vdb.full.data"], output: "/srv/r/vdb.qcow2", total: 100 },
] };
const RESULT: RestoreCliEvent = {
    event: "result", action: "restore", bootFiles: [], warnings: [], config: "/srv/r/vmconfig.virtnbdbackup.1.xml", defined: "restore_vm1",
    disks: [{ disk: "vda", output: "/srv/r/vda.qcow2", files: [], bytes: 300, checksums: [] }, { disk: "vdb", output: "/srv/r/vdb.qcow2", files: [], bytes: 100, checksums: [] }],
};

it("starts running as a restore, with no disks and no process", () => {
    const s = initialRestoreState(JOB, 1000);
    assert.deepEqual([s.kind, s.state, s.pid, s.runnerPid, s.disks, s.point, s.target], ["restore", "running", null, null, [], "virtnbdbackup.1", "/srv/r"]);
});

it("follows the plan and the progress of each disk, marking a disk done at its last byte", () => {
    const s = run([PLAN, { event: "progress", disk: "vda", done: 100, total: 300, file: "vda.full.data" },
        { event: "progress", disk: "vda", done: 300, total: 300, file: "vda.inc.virtnbdbackup.1.data" },
        { event: "progress", disk: "vdb", done: 40, total: 100, file: "vdb.full.data" },
        { event: "warning", message: "w1" }]);
    assert.deepEqual(s.disks.map(d => [d.dev, d.done, d.total, d.startedAt, d.finishedAt]), [["vda", 300, 300, 1200, 1300], ["vdb", 40, 100, 1400, undefined]]);
    assert.deepEqual(s.warnings, ["w1"]);
    assert.equal(s.updatedAt, 1500);
});

it("succeeds with the result: the images and the defined VM", () => {
    const s = run([PLAN, RESULT]);
    const done = finishRestoreState(s, { kind: "exit", code: 0, signal: null, cancelRequested: false }, 5000);
    assert.equal(done.state, "succeeded");
    assert.deepEqual(done.result, { disks: [{ disk: "vda", output: "/srv/r/vda.qcow2", bytes: 300 }, { disk: "vdb", output: "/srv/r/vdb.qcow2", bytes: 100 }],
        config: "/srv/r/vmconfig.virtnbdbackup.1.xml", defined: "restore_vm1" });
    assert.equal(done.finishedAt, 5000);
    // The page reads it back as a restore.
    const parsed = parseJobStatus(JSON.stringify(done));
    assert.equal(parsed.state !== "none" && parsed.kind, "restore");
});

it("fails with the engine's reason, is cancelled on request, and never changes once finished", () => {
    const failed = finishRestoreState(run([PLAN, { event: "error", message: "vda.full.data: checksum mismatch" }]),
                                      { kind: "exit", code: 1, signal: null, cancelRequested: false, stderrTail: "other" }, 2000);
    assert.deepEqual([failed.state, failed.message], ["failed", "vda.full.data: checksum mismatch"]);
    const killed = finishRestoreState(run([PLAN]), { kind: "exit", code: null, signal: "SIGKILL", cancelRequested: false }, 2000);
    assert.match(killed.message!, /killed by SIGKILL/);
    const cancelled = finishRestoreState(run([PLAN]), { kind: "exit", code: 130, signal: null, cancelRequested: true }, 2000);
    assert.equal(cancelled.state, "cancelled");
    // Exit 0 without a result is no success.
    assert.equal(finishRestoreState(run([PLAN]), { kind: "exit", code: 0, signal: null, cancelRequested: false }, 2000).state, "failed");
    assert.equal(applyRestoreEvent(cancelled, RESULT, 3000), cancelled);
    assert.equal(finishRestoreState(cancelled, { kind: "spawn-error", message: "x" }, 3000), cancelled);
});

it("recognises the restore CLI the runner starts, and nothing else", () => {
    assert.equal(isRestoreCli(["/usr/bin/node", "/usr/local/share/cockpit/virtnbdbackup/helper/virtnbdrestore.js", "--json", "-i", "/b"]), true);
    assert.equal(isRestoreCli(["/usr/bin/node", "/x/virtnbdbackup.js", "--json"]), false);
    assert.equal(isRestoreCli(["/usr/bin/python3", "/usr/bin/virtnbdrestore", "--json"]), false);
    assert.equal(isRestoreCli(["/usr/bin/node", "/x/virtnbdrestore.js", "-i"]), false);
});
