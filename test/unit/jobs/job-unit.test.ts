// SPDX-License-Identifier: GPL-3.0-or-later
// Jobs as transient systemd units and their log lines: the systemd-run argv (unit name, journal fields),
// the lines a job's events give, and the check that stdout is the journal systemd connected.
import { it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { jobUnitName, systemdRunArgs } from "../../../helper/jobs/job-unit.ts";
import { endLine, eventLine, stdoutIsJournal } from "../../../helper/jobs/job-log.ts";
import type { BackupJobState } from "../../../helper/protocol/job-types.ts";

const UUID = "0b8e7a54-6f0d-4c1e-9d2a-3b4c5d6e7f80";
const job = { uuid: UUID, domain: "web 1=prod", id: "mf3k2a-0a1b2c3d", kind: "backup" as const };

it("a job's unit: named from UUID and job id, collected, the VM's name and UUID as journal fields", () => {
    assert.equal(jobUnitName(job), `cockpit-virtnbdbackup-job-${UUID}-mf3k2a-0a1b2c3d.service`);
    const args = systemdRunArgs(job, ["/usr/bin/node", "/x/helper.js", "run-job", "--id", job.id]);
    assert.equal(args[0], `--unit=cockpit-virtnbdbackup-job-${UUID}-mf3k2a-0a1b2c3d.service`);
    for (const a of ["--collect", "--property=SyslogIdentifier=cockpit-virtnbdbackup", "--property=LogExtraFields=VM_NAME=web 1=prod",
        `--property=LogExtraFields=VM_UUID=${UUID}`, "--property=LogExtraFields=JOB_ID=mf3k2a-0a1b2c3d", "--property=LogExtraFields=JOB_KIND=backup"])
        assert.ok(args.includes(a), a);
    assert.deepEqual(args.slice(args.indexOf("--") + 1), ["/usr/bin/node", "/x/helper.js", "run-job", "--id", job.id]);
    assert.throws(() => jobUnitName({ ...job, id: "../x" }), /cannot name a unit/);
    assert.throws(() => jobUnitName({ ...job, uuid: "x; reboot" }), /cannot name a unit/);
});

it("log lines: plan, disks done, warnings and errors; no progress", () => {
    assert.deepEqual(eventLine("backup", { event: "plan", level: "full", domain: "vm1", parent: "", disks: [{ dev: "vda" }, { dev: "vdb" }] }),
        { priority: "info", message: "full backup of vm1: vda, vdb" });
    assert.deepEqual(eventLine("backup", { event: "disk-done", dev: "vda", bytes: 4096, file: "vda.full.data" }),
        { priority: "info", message: "vda: 4096 bytes saved in vda.full.data" });
    assert.deepEqual(eventLine("restore", { event: "disk", disk: "vda", bytes: 10, output: "/srv/r/vda" }),
        { priority: "info", message: "vda: 10 bytes restored into /srv/r/vda" });
    assert.deepEqual(eventLine("backup", { event: "warning", message: "w" }), { priority: "warning", message: "w" });
    assert.deepEqual(eventLine("restore", { event: "error", message: "e" }), { priority: "err", message: "e" });
    assert.equal(eventLine("backup", { event: "progress", dev: "vda", done: 1, total: 2 }), null);
    assert.equal(eventLine("backup", { event: "disk", dev: "vda", file: "f", total: 1 }), null);
});

it("the end line says how the job ended", () => {
    const base = { kind: "backup", id: "j1", domain: "vm1", warnings: [] } as unknown as BackupJobState;
    assert.deepEqual(endLine({ ...base, state: "succeeded" }), { priority: "info", message: "backup j1 of vm1 succeeded" });
    assert.deepEqual(endLine({ ...base, state: "succeeded", warnings: ["x"] }), { priority: "warning", message: "backup j1 of vm1 succeeded with 1 warning(s)" });
    assert.deepEqual(endLine({ ...base, state: "failed", message: "disk full" }), { priority: "err", message: "backup j1 of vm1 failed: disk full" });
    assert.deepEqual(endLine({ ...base, state: "cancelled" }), { priority: "warning", message: "backup j1 of vm1 cancelled" });
});

it("stdout is the journal only when JOURNAL_STREAM names this very stdout", () => {
    const st = fs.fstatSync(1, { bigint: true });
    assert.equal(stdoutIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }), true);
    assert.equal(stdoutIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1n}` }), false);
    assert.equal(stdoutIsJournal({}), false);
    assert.equal(stdoutIsJournal({ JOURNAL_STREAM: "x" }), false);
});
