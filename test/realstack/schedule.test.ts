// SPDX-License-Identifier: GPL-3.0-or-later
// Automatic backups for real: the helper's set-settings writes the VM's line into /etc/cron.d, the host's cron
// daemon runs it at the chosen minute, and the backup it starts (level auto: a full into the empty folder)
// restores exactly. Bad schedules are refused and change nothing; "off" takes the line away.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ensureCron } from "../lib/cron.ts";
import { ensureSyslog, SYSLOG_FILE } from "../lib/syslog.ts";
import { run } from "../lib/exec.ts";
import { removePluginState } from "../lib/plugin-state.ts";
import { compareImages, type TestVm } from "../lib/vm.ts";
import { listFolder, ourCli, ourRestoreOk } from "../lib/backup-cli.ts";
import { testBed } from "../lib/test-bed.ts";

const CRON_FILE = "/etc/cron.d/cockpit-virtnbdbackup";
const HELPER = path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");

// The bed turns the VM's schedule off before its settings go, so that the cron file no longer names it.
const bed = testBed({ name: "schedule" });
let syslog: { ours: boolean; stop: () => Promise<void> } = { ours: false, stop: async () => {} };
let vm: TestVm;
let uuid = "";
let work = "";

bed.before(async () => {
    const stopCron = await ensureCron();
    bed.onTeardown(stopCron);
    syslog = await ensureSyslog();
    bed.onTeardown(() => syslog.stop());
    work = bed.work;
    vm = await bed.vm({ disks: [{ size: "32M", writes: [{ offset: "1M", length: "4M", random: true, seed: 8 }] }] });
    uuid = bed.uuid(vm);
});

function helper(args: string[]) {
    return run(process.execPath, [HELPER, ...args], { timeoutMs: 60_000 });
}

function cronLines(): string[] {
    return fs.existsSync(CRON_FILE) ? fs.readFileSync(CRON_FILE, "utf8").split("\n") : [];
}

test("a daily schedule runs through cron at its minute; the backup it starts restores exactly", { timeout: 300_000 }, async () => {
    const folder = path.join(work, "backups");
    // Two minutes ahead: cron reads the changed file at its next minute and runs the line at the one after.
    const at = new Date(Date.now() + 2 * 60_000);
    const time = `${String(at.getHours()).padStart(2, "0")}:${String(at.getMinutes()).padStart(2, "0")}`;
    const set = await helper(["set-settings", "--domain", vm.name, "--folder", folder, "--schedule", "daily", "--time", time]);
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual(JSON.parse(set.stdout).schedule, { frequency: "daily", weekday: 0, time });
    const line = `${at.getMinutes()} ${at.getHours()} * * * root ${process.execPath} ${HELPER} run-scheduled --uuid ${uuid}`;
    assert.ok(cronLines().includes(line), `${line} in:\n${cronLines().join("\n")}`);
    assert.equal(fs.statSync(CRON_FILE).mode & 0o022, 0, "cron ignores files others may write");

    // The job the schedule starts is the page's own: its state file says how it went.
    const deadline = Date.now() + 240_000;
    let job: { state?: string; level?: string; scheduled?: boolean } = {};
    while (Date.now() < deadline) {
        const status = await helper(["job-status", "--domain", vm.name]);
        job = JSON.parse(status.stdout);
        if (job.state === "succeeded" || job.state === "failed" || job.state === "cancelled")
            break;
        await new Promise(resolve => setTimeout(resolve, 2000));
    }
    assert.equal(job.state, "succeeded", `scheduled job: ${JSON.stringify(job)}`);
    assert.equal(job.scheduled, true, "the page can tell a scheduled run from one it started");
    assert.ok(listFolder(folder).includes("vda.full.data"), listFolder(folder).join(" "));

    const out = path.join(work, "restored");
    await ourRestoreOk(["-i", folder, "-o", out]);
    const compared = await compareImages(path.join(out, path.basename(vm.disks[0].path)), vm.expectedPath(0));
    assert.ok(compared.identical, compared.output);
});

test("without systemd a job's messages go to syslog, the VM named in each line", async (t) => {
    if (!syslog.ours) {
        t.skip("a syslog daemon of the host listens on /dev/log: its messages are not in a file this test knows");
        return;
    }
    // Started as the page starts one (the cron file is shared by every helper on a test host: not through it).
    const start = await helper(["start-backup", "--domain", vm.name, "--level", "inc"]);
    assert.equal(start.code, 0, start.stderr);
    const id = JSON.parse(start.stdout).id as string;
    const deadline = Date.now() + 120_000;
    let job: { id?: string; state?: string } = {};
    while (Date.now() < deadline && !(job.id === id && job.state !== "running")) {
        await new Promise(resolve => setTimeout(resolve, 1000));
        job = JSON.parse((await helper(["job-status", "--domain", vm.name])).stdout);
    }
    assert.equal(job.state, "succeeded", JSON.stringify(job));
    // "cockpit-virtnbdbackup[PID]: NAME (UUID): ..."; succeeded "with 1 warning(s)": the VM has no guest agent.
    const wanted = [`backup ${id} of ${vm.name} started`, `inc backup of ${vm.name}: vda since virtnbdbackup.0`,
        `backup ${id} of ${vm.name} succeeded with 1 warning(s)`].map(m => `: ${vm.name} (${uuid}): ${m}`);
    let lines: string[] = [];
    for (let i = 0; i < 100 && !wanted.every(w => lines.some(l => l.endsWith(w))); i++) {
        await new Promise(resolve => setTimeout(resolve, 100));
        lines = fs.readFileSync(SYSLOG_FILE, "utf8").split("\n").filter(l => /cockpit-virtnbdbackup\[\d+\]: /.test(l));
    }
    for (const w of wanted)
        assert.ok(lines.some(l => l.endsWith(w)), `${w} in:\n${lines.slice(-10).join("\n")}`);
});

test("bad schedules are refused and change nothing; off takes the VM's line away", async () => {
    const folder = path.join(work, "backups");
    const before = (await helper(["get-settings", "--domain", vm.name])).stdout;
    const cronBefore = cronLines();
    for (const [args, message] of [
        [["--schedule", "hourly"], /invalid|choices/i],
        [["--schedule", "daily", "--time", "24:00"], /HH:MM/],
        [["--schedule", "weekly", "--weekday", "7"], /0 \(Sunday\) to 6/],
    ] as [string[], RegExp][]) {
        const r = await helper(["set-settings", "--domain", vm.name, "--folder", folder, ...args]);
        assert.notEqual(r.code, 0, `${args.join(" ")} accepted`);
        assert.match(r.stderr, message);
    }
    assert.equal((await helper(["get-settings", "--domain", vm.name])).stdout, before);
    assert.deepEqual(cronLines(), cronBefore);

    const weekly = await helper(["set-settings", "--domain", vm.name, "--folder", folder, "--schedule", "weekly", "--weekday", "3", "--time", "3:05"]);
    assert.equal(weekly.code, 0, weekly.stderr);
    assert.ok(cronLines().some(l => l.startsWith("5 3 * * 3 root ") && l.endsWith(`run-scheduled --uuid ${uuid}`)), cronLines().join("\n"));

    const off = await helper(["set-settings", "--domain", vm.name, "--folder", folder, "--schedule", "off"]);
    assert.equal(off.code, 0, off.stderr);
    assert.ok(!cronLines().some(l => l.includes(uuid)), cronLines().join("\n"));
    // The time stays for the next time the schedule is turned on.
    assert.deepEqual(JSON.parse(off.stdout).schedule, { frequency: "off", weekday: 3, time: "03:05" });
});

test("the schedule of a VM deleted since turns itself off at its next run, instead of failing every day", async () => {
    const gone = await bed.vm({ disks: [{ size: "16M" }] });
    const goneUuid = bed.uuid(gone);
    try {
        const set = await helper(["set-settings", "--domain", gone.name, "--folder", path.join(work, "gone"), "--schedule", "daily", "--time", "04:10"]);
        assert.equal(set.code, 0, set.stderr);
        assert.ok(cronLines().some(l => l.endsWith(`run-scheduled --uuid ${goneUuid}`)));
        await gone.cleanup();

        const r = await helper(["run-scheduled", "--uuid", goneUuid]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /no virtual machine has the UUID .* any more: its automatic backups are turned off/);
        assert.ok(!cronLines().some(l => l.includes(goneUuid)), cronLines().join("\n"));
        const stored = JSON.parse(fs.readFileSync(`/etc/cockpit-virtnbdbackup/vms/${goneUuid}.json`, "utf8"));
        assert.deepEqual(stored.schedule, { frequency: "off", weekday: 0, time: "04:10" });
        // A second run finds nothing to do but says the same.
        assert.notEqual((await helper(["run-scheduled", "--uuid", goneUuid])).code, 0);
    } finally {
        await gone.cleanup();
        removePluginState([goneUuid]);
    }
});

test("a helper installed where cron's shell would misread the path cannot schedule, and changes nothing", async () => {
    // The same helper, copied under a folder name with a space.
    const odd = path.join(work, "odd place", "helper");
    fs.cpSync(path.dirname(HELPER), odd, { recursive: true });
    const folder = path.join(work, "backups");
    const before = (await helper(["get-settings", "--domain", vm.name])).stdout;
    const cronBefore = cronLines();
    const r = await run(process.execPath, [path.join(odd, "helper.js"), "set-settings", "--domain", vm.name, "--folder", folder, "--schedule", "daily", "--time", "05:00"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /characters cron's shell would read otherwise/);
    assert.equal((await helper(["get-settings", "--domain", vm.name])).stdout, before);
    assert.deepEqual(cronLines(), cronBefore);
});
