// SPDX-License-Identifier: GPL-3.0-or-later
// Automatic backups as systemd units: the OnCalendar= of a schedule, the unit files' text, the next run
// times the settings give, and the writer that keeps /etc/systemd/system (here a temporary folder) in step
// with the stored schedules, with systemctl's calls recorded.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { nextRuns, type Schedule } from "../../../helper/protocol/schedule-rules.ts";
import { onCalendar, scheduleUnits, scheduleUnitUuid } from "../../../helper/jobs/timer-units.ts";
import { removeTimerFiles, scheduleUnitFiles, writeTimerUnits } from "../../../helper/jobs/timer-files.ts";
import { schedulesToMigrate, writeSchedules, type ScheduleHost } from "../../../helper/jobs/schedules.ts";
import { parseSchedule } from "../../../helper/jobs/settings.ts";
import { lockJob } from "../../../helper/backup/lock.ts";

const program = { node: "/usr/bin/node", helper: "/usr/lib/cockpit-virtnbdbackup/helper.js" };
const A = "0b8e7a54-6f0d-4c1e-9d2a-3b4c5d6e7f80";
const B = "ffffffff-0000-4000-8000-000000000001";
const daily: Schedule = { frequency: "daily", weekday: 0, time: "02:00" };

describe("onCalendar", () => {
    it("daily and weekly at a local time, seconds 00; off has none", () => {
        assert.equal(onCalendar(daily), "*-*-* 02:00:00");
        assert.equal(onCalendar({ frequency: "daily", weekday: 5, time: "7:05" }), "*-*-* 07:05:00");
        assert.equal(onCalendar({ frequency: "weekly", weekday: 0, time: "23:59" }), "Sun *-*-* 23:59:00");
        assert.equal(onCalendar({ frequency: "weekly", weekday: 3, time: "03:30" }), "Wed *-*-* 03:30:00");
        assert.equal(onCalendar({ frequency: "off", weekday: 3, time: "03:30" }), null);
    });

    it("refuses a time or day that is not one", () => {
        assert.throws(() => onCalendar({ ...daily, time: "25:00" }), /cannot schedule/);
        assert.throws(() => onCalendar({ frequency: "weekly", weekday: 7, time: "02:00" }), /cannot schedule/);
    });
});

describe("scheduleUnits", () => {
    it("a oneshot service running run-scheduled and a persistent, accurate timer, named from the UUID", () => {
        const units = scheduleUnits(A, { ...daily, randomDelay: 30 }, program);
        assert.deepEqual([...units.keys()], [`cockpit-virtnbdbackup-${A}.service`, `cockpit-virtnbdbackup-${A}.timer`]);
        const service = units.get(`cockpit-virtnbdbackup-${A}.service`)!;
        assert.match(service, new RegExp(`^ExecStart=/usr/bin/node ${program.helper} run-scheduled --uuid ${A}$`, "m"));
        assert.match(service, /^SyslogIdentifier=cockpit-virtnbdbackup$/m);
        assert.match(service, new RegExp(`^LogExtraFields=VM_UUID=${A}$`, "m"));
        const timer = units.get(`cockpit-virtnbdbackup-${A}.timer`)!;
        for (const line of ["OnCalendar=*-*-* 02:00:00", "Persistent=true", "AccuracySec=1s", "RandomizedDelaySec=30min", "WantedBy=timers.target"])
            assert.ok(timer.split("\n").includes(line), `${line} in\n${timer}`);
        assert.ok(!scheduleUnits(A, daily, program).get(`cockpit-virtnbdbackup-${A}.timer`)!.includes("RandomizedDelaySec"));
        assert.equal(scheduleUnits(A, { ...daily, frequency: "off" }, program).size, 0);
    });

    it("refuses paths systemd would read otherwise, and UUIDs that are not one", () => {
        for (const helper of ["/opt/my helper/helper.js", "/x/%n.js", "/x/$HOME.js", "relative.js"])
            assert.throws(() => scheduleUnits(A, daily, { ...program, helper }), /systemd unit would read otherwise/, helper);
        assert.throws(() => scheduleUnits("x; reboot", daily, program), /cannot schedule/);
        assert.throws(() => scheduleUnits(A.toUpperCase(), daily, program), /cannot schedule/);
    });

    it("knows its own file names, and only those", () => {
        assert.equal(scheduleUnitUuid(`cockpit-virtnbdbackup-${A}.timer`), A);
        assert.equal(scheduleUnitUuid(`cockpit-virtnbdbackup-${A}.service`), A);
        for (const other of [`cockpit-virtnbdbackup-job-${A}-x.service`, "cockpit.socket", `cockpit-virtnbdbackup-${A}.timer.d`])
            assert.equal(scheduleUnitUuid(other), undefined, other);
    });
});

describe("random delay setting", () => {
    it("is whole minutes from 0 to 720; 0 and absent are none", () => {
        assert.deepEqual(parseSchedule({ ...daily, randomDelay: 45 }, "x"), { ...daily, randomDelay: 45 });
        assert.deepEqual(parseSchedule({ ...daily, randomDelay: 0 }, "x"), daily);
        assert.deepEqual(parseSchedule(daily, "x"), daily);
        for (const randomDelay of [-1, 721, 1.5, "5", null])
            assert.throws(() => parseSchedule({ ...daily, randomDelay }, "x"), /random delay is not a whole number of minutes from 0 to 720/, String(randomDelay));
    });
});

describe("nextRuns", () => {
    it("daily: today if still ahead, then every day; weekly: on its day", () => {
        const from = new Date(2026, 11, 6, 1, 59);  // a Sunday
        assert.deepEqual(nextRuns(daily, from, 2), [new Date(2026, 11, 6, 2, 0), new Date(2026, 11, 7, 2, 0)]);
        assert.deepEqual(nextRuns(daily, new Date(2026, 11, 6, 2, 0), 1), [new Date(2026, 11, 7, 2, 0)]);
        assert.deepEqual(nextRuns({ frequency: "weekly", weekday: 3, time: "03:30" }, from, 2),
            [new Date(2026, 11, 9, 3, 30), new Date(2026, 11, 16, 3, 30)]);
        assert.deepEqual(nextRuns({ ...daily, frequency: "off" }, from, 2), []);
    });
});

function tempHost(systemd: boolean): ScheduleHost & { calls: string[][] } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "timer-units-"));
    const calls: string[][] = [];
    fs.mkdirSync(path.join(dir, "vms"));
    fs.mkdirSync(path.join(dir, "cron.d"));
    fs.mkdirSync(path.join(dir, "system"));
    return {
        systemd, calls, settingsDir: path.join(dir, "vms"), cronFile: path.join(dir, "cron.d", "cockpit-virtnbdbackup"), unitDir: path.join(dir, "system"), lockDir: path.join(dir, "locks"),
        systemctl: async args => { calls.push(args); return ""; },
    };
}

function store(host: ScheduleHost, uuid: string, schedule: Schedule) {
    fs.writeFileSync(path.join(host.settingsDir, `${uuid}.json`), JSON.stringify({ folder: "/srv/b", compress: false, schedule }));
}

describe("writeTimerUnits / writeSchedules", () => {
    it("writes the units of scheduled VMs, reloads once, enables their timers; unchanged files are not reloaded", async () => {
        const host = tempHost(true);
        store(host, A, daily);
        store(host, B, { ...daily, frequency: "off" });
        await writeSchedules(program, host);
        assert.deepEqual(scheduleUnitFiles(host.unitDir), [`cockpit-virtnbdbackup-${A}.service`, `cockpit-virtnbdbackup-${A}.timer`]);
        assert.equal(fs.statSync(path.join(host.unitDir, `cockpit-virtnbdbackup-${A}.timer`)).mode & 0o777, 0o644);
        assert.deepEqual(host.calls, [["daemon-reload"], ["enable", "--now", "--quiet", `cockpit-virtnbdbackup-${A}.timer`]]);
        host.calls.length = 0;
        assert.equal(await writeTimerUnits([{ uuid: A, schedule: daily }], program, host.systemctl, host.unitDir), false);
        assert.deepEqual(host.calls, [["enable", "--now", "--quiet", `cockpit-virtnbdbackup-${A}.timer`]]);
    });

    it("a schedule turned off: its timer is stopped and disabled, then both files go", async () => {
        const host = tempHost(true);
        store(host, A, daily);
        await writeSchedules(program, host);
        host.calls.length = 0;
        store(host, A, { ...daily, frequency: "off" });
        await writeSchedules(program, host);
        assert.deepEqual(scheduleUnitFiles(host.unitDir), []);
        assert.deepEqual(host.calls, [["disable", "--now", "--quiet", `cockpit-virtnbdbackup-${A}.timer`], ["daemon-reload"]]);
    });

    it("bad stored program paths change no file", async () => {
        const host = tempHost(true);
        store(host, A, daily);
        await writeSchedules(program, host);
        const before = fs.readFileSync(path.join(host.unitDir, `cockpit-virtnbdbackup-${A}.service`), "utf8");
        await assert.rejects(writeSchedules({ ...program, helper: "/a b/helper.js" }, host), /systemd unit would read otherwise/);
        assert.equal(fs.readFileSync(path.join(host.unitDir, `cockpit-virtnbdbackup-${A}.service`), "utf8"), before);
    });

    it("moving between cron and systemd leaves exactly one schedule per VM", async () => {
        const host = tempHost(false);
        store(host, A, daily);
        store(host, B, { frequency: "weekly", weekday: 1, time: "04:00" });
        await writeSchedules(program, host);  // a cron-only host
        assert.equal(fs.readFileSync(host.cronFile, "utf8").split("\n").filter(l => l.includes("run-scheduled")).length, 2);
        const systemd = { ...host, systemd: true };
        assert.equal(schedulesToMigrate(systemd), true);
        await writeSchedules(program, systemd);  // now systemd boots it
        assert.equal(fs.existsSync(host.cronFile), false);
        assert.equal(scheduleUnitFiles(host.unitDir).filter(n => n.endsWith(".timer")).length, 2);
        assert.equal(schedulesToMigrate(systemd), false);
        // And back: the timers' files and their timers.target links go, the cron file returns.
        fs.mkdirSync(path.join(host.unitDir, "timers.target.wants"));
        fs.symlinkSync(path.join(host.unitDir, `cockpit-virtnbdbackup-${A}.timer`), path.join(host.unitDir, "timers.target.wants", `cockpit-virtnbdbackup-${A}.timer`));
        assert.equal(schedulesToMigrate(host), true);
        await writeSchedules(program, host);
        assert.deepEqual(scheduleUnitFiles(host.unitDir), []);
        assert.deepEqual(fs.readdirSync(path.join(host.unitDir, "timers.target.wants")), []);
        assert.equal(fs.readFileSync(host.cronFile, "utf8").split("\n").filter(l => l.includes("run-scheduled")).length, 2);
        assert.equal(removeTimerFiles(host.unitDir), false);
    });

    it("two saves at once take turns: the later one writes what the first one saved too", async () => {
        const host = tempHost(false);
        store(host, A, daily);
        const other = await lockJob("schedules", "the schedules", host.lockDir);  // another save, mid-write
        let written = false;
        const waiting = writeSchedules(program, host).then(() => { written = true });
        await new Promise(resolve => setTimeout(resolve, 150));
        assert.equal(written, false, "it waits for its turn");
        store(host, B, daily);  // what the other save stored
        other.release();
        await waiting;
        assert.equal(fs.readFileSync(host.cronFile, "utf8").split("\n").filter(l => l.includes("run-scheduled")).length, 2);
    });
});
