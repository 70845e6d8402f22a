// SPDX-License-Identifier: GPL-3.0-or-later
// The cron file of automatic backups: one line per scheduled VM, nothing a shell could misread, written from
// the stored settings (pure parts, and the writer on temp folders).
import { it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkScheduledCommand, cronFileText, cronLine, requireCron, schedulerState, writeCronFile } from "../../../helper/jobs/cron-file.ts";

const command = { node: "/usr/bin/node", helper: "/usr/share/cockpit/virtnbdbackup/helper/helper.js" };
const A = "0b8e7a54-6f0d-4c1e-9d2a-3b4c5d6e7f80";
const B = "ffffffff-0000-4000-8000-000000000001";

it("a line per schedule: minute, hour, weekday or *, root, node, helper, run-scheduled --uuid", () => {
    assert.equal(cronLine(A, { frequency: "daily", weekday: 4, time: "02:00" }, command),
        `0 2 * * * root /usr/bin/node ${command.helper} run-scheduled --uuid ${A}`);
    assert.equal(cronLine(A, { frequency: "weekly", weekday: 3, time: "23:59" }, command),
        `59 23 * * 3 root /usr/bin/node ${command.helper} run-scheduled --uuid ${A}`);
    assert.equal(cronLine(A, { frequency: "off", weekday: 3, time: "23:59" }, command), null);
});

it("nothing that cron's shell would read otherwise reaches a line", () => {
    const daily = { frequency: "daily" as const, weekday: 0, time: "02:00" };
    for (const helper of ["/opt/my helper/helper.js", "/x/$(reboot)/helper.js", "relative/helper.js", "/x/a;b.js", "/x/%.js"])
        assert.throws(() => cronLine(A, daily, { ...command, helper }), /characters cron's shell/, helper);
    assert.throws(() => checkScheduledCommand({ ...command, node: "/opt/node js/bin/node" }), /characters cron's shell/);
    assert.doesNotThrow(() => checkScheduledCommand(command));
    assert.throws(() => cronLine("not-a-uuid; reboot", daily, command), /cannot schedule/);
    assert.throws(() => cronLine(A, { ...daily, time: "2:00; reboot" }, command), /cannot schedule/);
});

it("the file: a header, PATH, then the scheduled VMs in a stable order", () => {
    const text = cronFileText([
        { uuid: B, schedule: { frequency: "weekly", weekday: 0, time: "04:30" } },
        { uuid: A, schedule: { frequency: "daily", weekday: 0, time: "01:15" } },
        { uuid: "11111111-2222-4333-8444-555555555555", schedule: { frequency: "off", weekday: 0, time: "01:15" } },
    ], command);
    const lines = text.trimEnd().split("\n");
    assert.match(lines[0], /^# /);
    assert.ok(lines.includes("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
    assert.deepEqual(lines.filter(l => /^\d/.test(l)).map(l => l.split(" ").slice(0, 5).join(" ") + " " + l.split(" ").pop()),
        [`15 1 * * * ${A}`, `30 4 * * 0 ${B}`]);
    assert.ok(text.endsWith("\n"), "cron needs the last line ended");
});

it("written from every stored settings file; unreadable ones schedule nothing; removed when nothing is scheduled", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-cron-`));
    try {
        const settings = path.join(dir, "vms");
        const cronDir = path.join(dir, "cron.d");
        fs.mkdirSync(settings);
        fs.mkdirSync(cronDir);
        const file = path.join(cronDir, "cockpit-virtnbdbackup");
        const store = (uuid: string, value: unknown) => fs.writeFileSync(path.join(settings, `${uuid}.json`), JSON.stringify(value));
        store(A, { folder: "/srv/a", compress: false, schedule: { frequency: "daily", weekday: 0, time: "03:00" } });
        store(B, { folder: "/srv/b", compress: false });
        fs.writeFileSync(path.join(settings, `${"22222222-2222-4222-8222-222222222222"}.json`), "{broken");
        fs.writeFileSync(path.join(settings, "notes.txt"), "not settings");
        writeCronFile(command, file, settings);
        const lines = fs.readFileSync(file, "utf8").split("\n").filter(l => /^\d/.test(l));
        assert.deepEqual(lines, [`0 3 * * * root /usr/bin/node ${command.helper} run-scheduled --uuid ${A}`]);
        assert.equal(fs.statSync(file).mode & 0o777, 0o644);
        assert.deepEqual(fs.readdirSync(cronDir), ["cockpit-virtnbdbackup"], "no temporary file left for cron to read");

        store(A, { folder: "/srv/a", compress: false, schedule: { frequency: "off", weekday: 0, time: "03:00" } });
        writeCronFile(command, file, settings);
        assert.ok(!fs.existsSync(file));

        assert.doesNotThrow(() => requireCron(file));
        assert.throws(() => requireCron(path.join(dir, "no-cron", "x")), /install the cron package/);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

it("the scheduler's state: missing without /etc/cron.d, running when a cron process shows in /proc", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-sched-`));
    try {
        const proc = path.join(dir, "proc");
        const file = path.join(dir, "cron.d", "cockpit-virtnbdbackup");
        fs.mkdirSync(path.join(proc, "1"), { recursive: true });
        fs.writeFileSync(path.join(proc, "1", "comm"), "init\n");
        fs.mkdirSync(path.join(proc, "self"));
        assert.equal(schedulerState(file, proc), "missing");
        fs.mkdirSync(path.dirname(file));
        assert.equal(schedulerState(file, proc), "stopped");
        fs.mkdirSync(path.join(proc, "77"));
        fs.writeFileSync(path.join(proc, "77", "comm"), "cron\n");
        assert.equal(schedulerState(file, proc), "running");
        // The real /proc: this test process is there, cron may or may not be.
        assert.ok(["running", "stopped", "missing"].includes(schedulerState()));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

it("a random delay makes the started helper wait (cron has none of its own); without one the line is as before", () => {
    assert.equal(cronLine(A, { frequency: "daily", weekday: 0, time: "02:00", randomDelay: 30 }, command),
        `0 2 * * * root /usr/bin/node ${command.helper} run-scheduled --uuid ${A} --random-delay`);
    assert.equal(cronLine(A, { frequency: "daily", weekday: 0, time: "02:00", randomDelay: 0 }, command),
        `0 2 * * * root /usr/bin/node ${command.helper} run-scheduled --uuid ${A}`);
});
