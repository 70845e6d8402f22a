// SPDX-License-Identifier: GPL-3.0-or-later
// Events of `virtnbdbackup --json` reduced into the job state file, and how a job ends.
import { it } from "node:test";
import assert from "node:assert/strict";
import { applyEvent, finishState, initialState, type CliEvent } from "../../../helper/jobs/job-state.ts";
import { isBackupCli } from "../../../helper/tools/proc.ts";
import type { BackupJobState } from "../../../helper/protocol/job-types.ts";

const JOB = { id: "j1", domain: "vm1", uuid: "11111111-2222-3333-4444-555555555555", level: "auto" as const, folder: "/srv/b", compress: false };

function run(events: CliEvent[], start = 1000): BackupJobState {
    return events.reduce((s, e, i) => applyEvent(s, e, start + (i + 1) * 100), initialState(JOB, start));
}

const RESULT: CliEvent = {
    event: "result", domain: "vm1", level: "full", checkpoint: "virtnbdbackup.0", parent: "", files: ["/srv/b/vda.full.data"],
    disks: [{ dev: "vda", file: "/srv/b/vda.full.data", dataBytes: 300, fileBytes: 350 }], seconds: 1.5,
};

it("starts running with no disks and no process", () => {
    const s = initialState(JOB, 1000);
    assert.equal(s.state, "running");
    assert.equal(s.pid, null);
    assert.deepEqual(s.disks, []);
    assert.equal(s.startedAt, 1000);
});

it("follows plan, disk, progress and disk-done per disk", () => {
    const s = run([
        { event: "plan", domain: "vm1", level: "full", checkpoint: "virtnbdbackup.0", parent: "", online: true, disks: [{ dev: "vda", size: 0 }, { dev: "vdb", size: 0 }] },
        { event: "disk", dev: "vda", file: "/srv/b/vda.full.data", total: 300, size: 1024 },
        { event: "disk", dev: "vdb", file: "/srv/b/vdb.full.data", total: 50, size: 1024 },
        { event: "progress", dev: "vda", done: 100, total: 300 },
        { event: "disk-done", dev: "vdb", file: "/srv/b/vdb.full.data", bytes: 50, fileBytes: 60 },
        { event: "warning", message: "filesystems not frozen" },
        { event: "info", message: "noise" },
    ]);
    assert.equal(s.plannedLevel, "full");
    assert.equal(s.checkpoint, "virtnbdbackup.0");
    assert.deepEqual(s.disks.map(d => [d.dev, d.done, d.total]), [["vda", 100, 300], ["vdb", 50, 50]]);
    assert.equal(s.disks[0].startedAt, 1200);
    assert.equal(s.disks[0].finishedAt, undefined);
    assert.equal(s.disks[1].finishedAt, 1500);
    assert.deepEqual(s.warnings, ["filesystems not frozen"]);
    assert.equal(s.updatedAt, 1700);
    assert.equal(s.message, undefined, "info events are not the job's message");
});

it("succeeds only with a result event and exit code 0", () => {
    const s = run([{ event: "plan", domain: "vm1", level: "inc", checkpoint: "virtnbdbackup.1", parent: "virtnbdbackup.0", online: true, disks: [] }, RESULT]);
    const ok = finishState(s, { kind: "exit", code: 0, signal: null, cancelRequested: false }, 9000);
    assert.equal(ok.state, "succeeded");
    assert.equal(ok.finishedAt, 9000);
    assert.equal(ok.plannedLevel, "full", "the result's level wins");
    assert.equal(ok.result?.seconds, 1.5);
    const noResult = finishState(run([]), { kind: "exit", code: 0, signal: null, cancelRequested: false }, 9000);
    assert.equal(noResult.state, "failed");
});

it("fails with the engine's message, else stderr, else the exit status", () => {
    const withError = finishState(run([{ event: "error", message: "another backup or restore job is running for vm1 (process 42)" }]),
                                  { kind: "exit", code: 1, signal: null, cancelRequested: false, stderrTail: "virtnbdbackup: x" }, 9000);
    assert.equal(withError.state, "failed");
    assert.equal(withError.message, "another backup or restore job is running for vm1 (process 42)");
    assert.equal(finishState(run([]), { kind: "exit", code: 1, signal: null, cancelRequested: false, stderrTail: "boom" }, 9).message, "boom");
    assert.match(finishState(run([]), { kind: "exit", code: null, signal: "SIGKILL", cancelRequested: false }, 9).message!, /SIGKILL/);
    assert.match(finishState(run([]), { kind: "spawn-error", message: "cannot start" }, 9).message!, /cannot start/);
});

it("a requested cancel makes a failed end 'cancelled', but not a successful one", () => {
    const failed = finishState(run([{ event: "error", message: "cancelled by SIGTERM" }]), { kind: "exit", code: 1, signal: null, cancelRequested: true }, 9);
    assert.equal(failed.state, "cancelled");
    const finishedAnyway = finishState(run([RESULT]), { kind: "exit", code: 0, signal: null, cancelRequested: true }, 9);
    assert.equal(finishedAnyway.state, "succeeded");
});

it("a finished job does not change any more", () => {
    const done = finishState(run([RESULT]), { kind: "exit", code: 0, signal: null, cancelRequested: false }, 9);
    assert.equal(applyEvent(done, { event: "progress", dev: "vda", done: 1, total: 2 }, 10), done);
    assert.equal(finishState(done, { kind: "exit", code: 1, signal: null, cancelRequested: true }, 11), done);
});

it("keeps at most 20 warnings, the newest", () => {
    const s = run(Array.from({ length: 25 }, (_, i) => ({ event: "warning" as const, message: `w${i}` })));
    assert.equal(s.warnings.length, 20);
    assert.equal(s.warnings[19], "w24");
});

it("recognises the CLI process it may signal only by its exact argv", () => {
    const argv = ["/usr/bin/node", "/usr/share/cockpit/virtnbdbackup/helper/virtnbdbackup.js", "--json", "-d", "vm1", "-l", "auto", "-o", "/srv/b"];
    assert.equal(isBackupCli(argv, "vm1"), true);
    assert.equal(isBackupCli(argv, "vm2"), false);
    assert.equal(isBackupCli(["/usr/bin/python3", ...argv.slice(1)], "vm1"), false);
    assert.equal(isBackupCli(["/usr/bin/node", "/x/virtnbdrestore.js", ...argv.slice(2)], "vm1"), false);
    assert.equal(isBackupCli(["/usr/bin/node", argv[1], "-d", "vm1"], "vm1"), false);
});
