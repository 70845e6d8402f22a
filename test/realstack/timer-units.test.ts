// SPDX-License-Identifier: GPL-3.0-or-later
// The timer and service units of automatic backups, checked by the host's own systemd tools (no systemd
// needs to run): `systemd-analyze verify` accepts them, and `systemd-analyze calendar` gives for each
// OnCalendar= the very run times the settings say (nextRuns), in a time zone with summer time.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { nextRuns, type Schedule } from "../../helper/protocol/schedule-rules.ts";
import { onCalendar, scheduleUnits } from "../../helper/jobs/timer-units.ts";
import { run } from "../lib/exec.ts";
import { ourCli } from "../lib/backup-cli.ts";
import { testBed } from "../lib/test-bed.ts";

const HELPER = path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");
const UUID = "0b8e7a54-6f0d-4c1e-9d2a-3b4c5d6e7f80";
// Summer time starts on Sunday 2027-03-28 at 02:00 here: 02:30 does not exist that day.
const TZ = "Europe/Berlin";
const BASE = "2027-03-20 12:00:00";
// No VM and no libvirt: the systemd tools read the units from the work folder.
const bed = testBed({ name: "units", libvirtd: false });

const SCHEDULES: Schedule[] = [
    { frequency: "daily", weekday: 0, time: "02:30" },
    { frequency: "daily", weekday: 0, time: "00:00" },
    { frequency: "weekly", weekday: 0, time: "02:30" },
    { frequency: "weekly", weekday: 3, time: "23:59", randomDelay: 90 },
    { frequency: "weekly", weekday: 6, time: "7:05" },
];

/** Local "YYYY-MM-DD HH:MM:SS" of a date in the process's time zone. */
function local(d: Date): string {
    const p = (n: number) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

test("systemd-analyze calendar gives the run times the settings say", { timeout: 60_000 }, async () => {
    const savedTz = process.env.TZ;
    process.env.TZ = TZ;
    try {
        const from = new Date(2027, 2, 20, 12, 0, 0);
        assert.equal(local(from), BASE);
        for (const schedule of SCHEDULES) {
            const spec = onCalendar(schedule)!;
            const r = await run("systemd-analyze", ["calendar", "--iterations=6", `--base-time=${BASE}`, spec], { env: { TZ } });
            assert.equal(r.code, 0, r.stderr);
            // "    Next elapse: Sun 2027-03-21 02:30:00 CET" and "       Iter. #2: ..." (not the "(in UTC)" lines)
            const times = [...r.stdout.matchAll(/^\s*(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) /gm)].map(m => m[1]);
            assert.equal(times.length, 6, r.stdout);
            assert.deepEqual(nextRuns(schedule, from, 6).map(local), times, `${JSON.stringify(schedule)} (${spec})`);
        }
    } finally {
        if (savedTz === undefined)
            delete process.env.TZ;
        else
            process.env.TZ = savedTz;
    }
});

test("systemd-analyze verify accepts the timer and service units", { timeout: 60_000 }, async () => {
    const files: string[] = [];
    for (const [name, text] of scheduleUnits(UUID, { frequency: "weekly", weekday: 3, time: "03:30", randomDelay: 15 }, { node: process.execPath, helper: HELPER })) {
        fs.writeFileSync(path.join(bed.work, name), text);
        files.push(path.join(bed.work, name));
    }
    const r = await run("systemd-analyze", ["verify", ...files], { cwd: bed.work });
    // Without systemd as PID 1 verify still loads and checks the units; anything it says about them is a failure.
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.stderr.split("\n").filter(l => l.includes("cockpit-virtnbdbackup")).join("\n"), "");
});
