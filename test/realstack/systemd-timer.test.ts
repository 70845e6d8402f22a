// SPDX-License-Identifier: GPL-3.0-or-later
// Automatic backups and jobs under a real systemd (252, booted in systemd-nspawn from a cached Debian 12
// root; the machine itself runs none). The built helper is bound in read-only, the host's libvirtd through
// /run/libvirt; /run/virtnbdbackup (NBD sockets) and /var/tmp (scratch files, images, backups) are the same
// folders on both sides, since the host's QEMU makes files there that the helper inside uses. The helper
// moves a cron-only install over to a timer, installs the timer of a VM, the timer fires for real, the
// backup runs as its own unit and logs into the journal with the VM's fields, and it restores exactly; a
// missed run is caught up (Persistent=true); a job started as a transient unit is cancelled; verify and
// prune run as units. The package's maintainer scripts stop and remove the timers on remove, keep the
// settings, and set the timers up again on configure.
// Runs alone: its container shares /run/virtnbdbackup with the host but has a PID namespace of its own, so its
// helper takes the host's live mappings, jobs and tickets there for a dead process's leftovers and removes them.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Container, nspawnUnavailable, systemdRootfs } from "../lib/nspawn.ts";
import { runOk } from "../lib/exec.ts";
import { ensureLibvirtd, LIBVIRT_URI } from "../lib/libvirtd.ts";
import { compareImages, TestVm } from "../lib/vm.ts";
import { ourCli, ourRestoreOk } from "../lib/backup-cli.ts";

const DIST = path.dirname(path.dirname(ourCli("virtnbdbackup")));
const HELPER = path.join(DIST, "helper", "helper.js");
const RUN_DIR = "/run/virtnbdbackup";
const unavailable = nspawnUnavailable();

let stopLibvirtd: () => Promise<void> = async () => {};
let container: Container | undefined;
let vm: TestVm | undefined;
let uuid = "";
let work = "";

before(async () => {
    if (unavailable)
        return;
    stopLibvirtd = await ensureLibvirtd();
    await Container.stopStale();  // of a test run that was killed: it holds the binds and a copy of the root
    const rootfs = await systemdRootfs();
    // Big enough that a backup runs for seconds (time to cancel one), with known content to restore.
    vm = await TestVm.create({ disks: [{ size: "1G", writes: [{ offset: 0, length: "384M", random: true, seed: 12 }, { offset: "900M", length: "2M", pattern: 0x5c }] }] });
    uuid = (await runOk("virsh", ["-c", LIBVIRT_URI, "domuuid", "--domain", vm.name])).stdout.trim();
    work = fs.mkdtempSync(path.join("/var/tmp", `vnbt-${process.pid}-systemd-`));
    fs.mkdirSync(RUN_DIR, { recursive: true, mode: 0o711 });
    container = await Container.boot(rootfs, {
        name: `vnbt-${process.pid}`,
        binds: ["/run/libvirt", RUN_DIR, "/var/tmp"],
        bindsRo: [DIST],
        logFile: path.join(work, "nspawn.log"),
    });
    // libvirt labels QEMU's files with the host's ids; the helper inside looks users up by name too.
    const uid = (await runOk("id", ["-u", "libvirt-qemu"])).stdout.trim();
    const gid = (await runOk("id", ["-g", "libvirt-qemu"])).stdout.trim();
    if ((await container.exec(["getent", "group", gid])).code !== 0)
        await container.execOk(["groupadd", "--system", "--gid", gid, "libvirt-qemu-host"]);
    if ((await container.exec(["getent", "passwd", "libvirt-qemu"])).code !== 0)
        await container.execOk(["useradd", "--system", "--no-create-home", "--uid", uid, "--gid", gid, "--shell", "/usr/sbin/nologin", "libvirt-qemu"]);
}, { timeout: 900_000 });

after(async () => {
    await container?.stop();
    await vm?.cleanup();
    if (work)
        fs.rmSync(work, { recursive: true, force: true });
    await stopLibvirtd();
});

/** The helper inside the container (its node is Debian 12's own, 18). */
function helper(args: string[]) {
    return container!.exec(["/usr/bin/node", HELPER, ...args], { timeoutMs: 120_000 });
}

async function jobState(): Promise<{ state?: string; id?: string; pid?: number | null; scheduled?: boolean; message?: string }> {
    const r = await helper(["job-status", "--domain", vm!.name]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
}

async function waitForJob(test: (job: Awaited<ReturnType<typeof jobState>>) => boolean, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    let job = await jobState();
    while (!test(job) && Date.now() < deadline) {
        await new Promise(resolve => setTimeout(resolve, 500));
        job = await jobState();
    }
    return job;
}

/** The journal entries of the helper's units for this VM (journalctl -t cockpit-virtnbdbackup VM_UUID=...). */
async function journal(): Promise<Record<string, string>[]> {
    const r = await container!.execOk(["journalctl", "--no-pager", "-o", "json", "-t", "cockpit-virtnbdbackup", `VM_UUID=${uuid}`]);
    return r.stdout.split("\n").filter(Boolean).map(l => JSON.parse(l) as Record<string, string>);
}

const timerName = () => `cockpit-virtnbdbackup-${uuid}.timer`;
const unitFile = (type: string) => `/etc/systemd/system/cockpit-virtnbdbackup-${uuid}.${type}`;
const hhmm = (d: Date) => `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;

test("an install that scheduled through cron moves to a systemd timer the first time the helper looks", { skip: unavailable ?? false, timeout: 120_000 }, async () => {
    const c = container!;
    // What a cron-only version left: the VM's settings with a schedule, and its cron line.
    const settings = { folder: path.join(work, "backups"), compress: false, schedule: { frequency: "weekly", weekday: 2, time: "04:10" }, keepChains: null, newChain: "never" };
    await c.execOk(["mkdir", "-p", "/etc/cockpit-virtnbdbackup/vms", "/etc/cron.d"]);
    await c.execOk(["tee", `/etc/cockpit-virtnbdbackup/vms/${uuid}.json`], { input: JSON.stringify(settings) });
    await c.execOk(["tee", "/etc/cron.d/cockpit-virtnbdbackup"], { input: `10 4 * * 2 root /usr/bin/node ${HELPER} run-scheduled --uuid ${uuid}\n` });

    const r = await helper(["get-settings", "--domain", vm!.name]);
    assert.equal(r.code, 0, r.stderr);
    const answer = JSON.parse(r.stdout);
    assert.equal(answer.timer, timerName());
    assert.equal(answer.scheduler, "running");
    assert.notEqual((await c.exec(["test", "-e", "/etc/cron.d/cockpit-virtnbdbackup"])).code, 0, "the cron line is gone");
    assert.equal((await c.exec(["systemctl", "is-enabled", timerName()])).stdout.trim(), "enabled");
    assert.equal((await c.exec(["systemctl", "is-active", timerName()])).stdout.trim(), "active");
    const show = await c.execOk(["systemctl", "show", timerName(), "-p", "TimersCalendar"]);
    assert.match(show.stdout, /OnCalendar=Tue \*-\*-\* 04:10:00/);
});

test("bad schedules are refused and change no unit", { skip: unavailable ?? false, timeout: 120_000 }, async () => {
    const c = container!;
    const before = (await c.execOk(["cat", unitFile("timer"), unitFile("service")])).stdout;
    for (const [args, message] of [
        [["--schedule", "daily", "--time", "24:00"], /HH:MM/],
        [["--schedule", "daily", "--time", "02:00", "--random-delay", "721"], /random delay is not a whole number of minutes from 0 to 720/],
        [["--schedule", "daily", "--time", "02:00", "--random-delay", "5m"], /random delay/],
    ] as [string[], RegExp][]) {
        const r = await helper(["set-settings", "--domain", vm!.name, "--folder", path.join(work, "backups"), ...args]);
        assert.notEqual(r.code, 0, `${args.join(" ")} accepted`);
        assert.match(r.stderr, message);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    assert.equal((await c.execOk(["cat", unitFile("timer"), unitFile("service")])).stdout, before);
    assert.equal((await c.execOk(["ls", "/etc/systemd/system"])).stdout.split("\n").filter(n => n.includes(".tmp") || n.startsWith(".")).length, 0);
});

test("the timer fires at its minute, the backup runs as a unit, logs with the VM's fields, and restores exactly", { skip: unavailable ?? false, timeout: 300_000 }, async () => {
    const c = container!;
    const folder = path.join(work, "backups");
    // The next minute at least 25 s ahead: AccuracySec=1s starts it at second 00.
    const at = new Date(Math.ceil((Date.now() + 25_000) / 60_000) * 60_000);
    const set = await helper(["set-settings", "--domain", vm!.name, "--folder", folder, "--schedule", "daily", "--time", hhmm(at), "--random-delay", "0"]);
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual(JSON.parse(set.stdout).schedule, { frequency: "daily", weekday: 2, time: hhmm(at) });
    const next = (await c.execOk(["systemctl", "show", timerName(), "-p", "NextElapseUSecRealtime", "--value"])).stdout.trim();
    assert.match(next, new RegExp(` ${at.getFullYear()}-\\d\\d-\\d\\d ${hhmm(at)}:00`), next);

    const job = await waitForJob(j => j.scheduled === true && (j.state === "succeeded" || j.state === "failed" || j.state === "cancelled"),
        at.getTime() - Date.now() + 180_000);
    assert.equal(job.state, "succeeded", JSON.stringify(job));
    const fired = Date.now();
    assert.ok(fired >= at.getTime(), "not before its time");
    const service = (await c.execOk(["systemctl", "show", `cockpit-virtnbdbackup-${uuid}.service`, "-p", "Result", "-p", "ExecMainStatus"])).stdout;
    assert.match(service, /Result=success/);

    // Its own transient unit logged the job into the journal, every line with the VM's name and UUID.
    const entries = await journal();
    const jobUnit = `cockpit-virtnbdbackup-job-${uuid}-${job.id}.service`;
    const ofJob = entries.filter(e => e._SYSTEMD_UNIT === jobUnit);
    assert.ok(ofJob.length >= 3, JSON.stringify(entries.map(e => [e._SYSTEMD_UNIT, e.MESSAGE])));
    for (const e of ofJob) {
        assert.equal(e.VM_NAME, vm!.name);
        assert.equal(e.VM_UUID, uuid);
        assert.equal(e.JOB_ID, job.id);
        assert.equal(e.SYSLOG_IDENTIFIER, "cockpit-virtnbdbackup");
    }
    const lines = ofJob.map(e => `${e.PRIORITY} ${e.MESSAGE}`);
    assert.equal(lines[0], `6 backup ${job.id} of ${vm!.name} started by its schedule`, lines.join("\n"));
    assert.ok(lines.includes(`6 full backup of ${vm!.name}: vda`), lines.join("\n"));
    // The VM has no guest agent: the engine warns that the backup is crash-consistent, at warning priority.
    assert.ok(lines.some(l => /^4 .*no QEMU guest agent/.test(l)), lines.join("\n"));
    assert.equal(lines.at(-1), `4 backup ${job.id} of ${vm!.name} succeeded with 1 warning(s)`, lines.join("\n"));
    // The unit is collected once it ended.
    assert.notEqual((await c.exec(["systemctl", "is-active", jobUnit])).stdout.trim(), "active");

    const out = path.join(work, "restored");
    await ourRestoreOk(["-i", folder, "-o", out]);
    const compared = await compareImages(path.join(out, path.basename(vm!.disks[0]!.path)), vm!.expectedPath(0));
    assert.ok(compared.identical, compared.output);
});

test("Persistent=true: a run missed while the host was off happens as soon as the timer is active again", { skip: unavailable ?? false, timeout: 180_000 }, async () => {
    const c = container!;
    const before = await jobState();
    assert.equal(before.state, "succeeded", "the previous test's run is the last job");
    // Two minutes ago: before the last run, which systemd keeps as the time of its stamp file.
    const past = new Date(Date.now() - 120_000);
    const set = await helper(["set-settings", "--domain", vm!.name, "--folder", path.join(work, "backups"), "--schedule", "daily", "--time", hhmm(past)]);
    assert.equal(set.code, 0, set.stderr);
    await new Promise(resolve => setTimeout(resolve, 3000));
    assert.equal((await jobState()).id, before.id, "a time already passed since the last run starts nothing");
    // The host went down after yesterday's run and comes up now, past today's time: the stamp says
    // yesterday, and starting the timer (what boot does) catches the missed run up at once.
    const stamp = `/var/lib/systemd/timers/stamp-${timerName()}`;
    await c.execOk(["systemctl", "stop", timerName()]);
    await c.execOk(["touch", "-d", "yesterday", stamp]);
    await c.execOk(["systemctl", "start", timerName()]);
    const job = await waitForJob(j => j.id !== before.id && j.state !== "running", 120_000);
    assert.notEqual(job.id, before.id, "the missed run was caught up");
    assert.equal(job.scheduled, true, JSON.stringify(job));
    assert.equal(job.state, "succeeded", JSON.stringify(job));
});

test("a job started as a transient unit is cancelled: state cancelled, the unit gone, the journal says so", { skip: unavailable ?? false, timeout: 300_000 }, async () => {
    const c = container!;
    const start = await helper(["start-backup", "--domain", vm!.name, "--level", "new-chain"]);
    assert.equal(start.code, 0, start.stderr);
    const id = JSON.parse(start.stdout).id as string;
    const jobUnit = `cockpit-virtnbdbackup-job-${uuid}-${id}.service`;
    // The backup takes a second or two: its CLI is stopped (SIGSTOP) as soon as it runs, so the cancel surely
    // finds it running; continued, it gets the pending SIGTERM.
    const stateFile = `/run/cockpit-virtnbdbackup/jobs/${uuid}.json`;
    let running: { id?: string; state?: string; pid?: number | null } = {};
    for (let i = 0; i < 600 && !(running.id === id && running.state === "running" && running.pid); i++) {
        running = JSON.parse((await c.execOk(["cat", stateFile])).stdout);
        if (running.state !== "running")
            break;
    }
    assert.ok(running.state === "running" && running.pid, JSON.stringify(running));
    await c.execOk(["kill", "-STOP", String(running.pid)]);
    assert.equal((await c.exec(["systemctl", "is-active", jobUnit])).stdout.trim(), "active");
    const cancel = await helper(["cancel-job", "--domain", vm!.name]);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.equal(JSON.parse(cancel.stdout).pid, running.pid);
    await c.execOk(["kill", "-CONT", String(running.pid)]);

    const job = await waitForJob(j => j.state !== "running", 120_000);
    assert.equal(job.state, "cancelled", JSON.stringify(job));
    for (let i = 0; i < 50 && (await c.exec(["systemctl", "is-active", jobUnit])).stdout.trim() === "active"; i++)
        await new Promise(resolve => setTimeout(resolve, 200));
    assert.notEqual((await c.exec(["systemctl", "is-active", jobUnit])).stdout.trim(), "active");
    const messages = (await journal()).filter(e => e._SYSTEMD_UNIT === jobUnit).map(e => [e.PRIORITY, e.MESSAGE]);
    assert.deepEqual(messages.at(-1), ["4", `backup ${id} of ${vm!.name} cancelled`], JSON.stringify(messages));
});

test("a restore from the page runs as its own unit, logs with the VM's fields, and restores exactly", { skip: unavailable ?? false, timeout: 180_000 }, async () => {
    const target = path.join(work, "restored-by-unit");
    const start = await helper(["start-restore", "--domain", vm!.name, "--point", "virtnbdbackup.0", "--target", target]);
    assert.equal(start.code, 0, start.stderr);
    const id = JSON.parse(start.stdout).id as string;
    const job = await waitForJob(j => j.id === id && j.state !== "running", 120_000);
    assert.equal(job.state, "succeeded", JSON.stringify(job));
    const unit = `cockpit-virtnbdbackup-job-${uuid}-${id}.service`;
    const lines = (await journal()).filter(e => e._SYSTEMD_UNIT === unit);
    assert.ok(lines.every(e => e.VM_NAME === vm!.name && e.JOB_KIND === "restore"), JSON.stringify(lines));
    assert.equal(lines.at(-1)?.MESSAGE, `restore ${id} of ${vm!.name} succeeded`, JSON.stringify(lines.map(e => e.MESSAGE)));
    const compared = await compareImages(path.join(target, path.basename(vm!.disks[0]!.path)), vm!.expectedPath(0));
    assert.ok(compared.identical, compared.output);
});

test("verify and prune from the page run as their own units too: same answer and exit status, logged with the VM's fields", { skip: unavailable ?? false, timeout: 120_000 }, async () => {
    const verify = await helper(["verify-restore-point", "--domain", vm!.name, "--point", "virtnbdbackup.0"]);
    assert.equal(verify.code, 0, verify.stderr);
    const lines = verify.stdout.trim().split("\n").map(l => JSON.parse(l) as { event?: string; ok?: boolean });
    assert.equal(lines.at(-1)?.event, "result");
    assert.equal(lines.at(-1)?.ok, true, verify.stdout);
    assert.ok(lines.some(l => l.event === "progress"), "progress lines reach the caller through the unit");
    // A refusal keeps its exit status and its one line on stderr.
    const bad = await helper(["verify-restore-point", "--domain", vm!.name, "--point", "virtnbdbackup.99"]);
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stderr, /^helper: .*virtnbdbackup\.99/);

    const prune = await helper(["prune", "--domain", vm!.name, "--keep", "5", "--yes"]);
    assert.equal(prune.code, 0, prune.stderr);
    assert.equal(JSON.parse(prune.stdout).dryRun, false);

    const entries = await journal();
    const ofKind = (kind: string) => entries.filter(e => e.JOB_KIND === kind && /^cockpit-virtnbdbackup-job-/.test(e._SYSTEMD_UNIT ?? ""));
    assert.ok(ofKind("verify").some(e => e.VM_NAME === vm!.name && / verify of virtnbdbackup\.0 in .*: \d+ file\(s\) ok$/.test(e.MESSAGE!)),
        JSON.stringify(entries.map(e => [e.JOB_KIND, e.MESSAGE])));
    assert.ok(ofKind("prune").some(e => e.VM_NAME === vm!.name && /nothing to remove/.test(e.MESSAGE!)),
        JSON.stringify(entries.map(e => [e.JOB_KIND, e.MESSAGE])));
});

test("turning the schedule off stops and removes the VM's timer and service", { skip: unavailable ?? false, timeout: 60_000 }, async () => {
    const c = container!;
    const off = await helper(["set-settings", "--domain", vm!.name, "--folder", path.join(work, "backups"), "--schedule", "off"]);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(JSON.parse(off.stdout).timer, undefined);
    for (const type of ["timer", "service"])
        assert.notEqual((await c.exec(["test", "-e", unitFile(type)])).code, 0, `${unitFile(type)} is gone`);
    assert.notEqual((await c.exec(["test", "-e", `/etc/systemd/system/timers.target.wants/${timerName()}`])).code, 0);
    assert.doesNotMatch((await c.execOk(["systemctl", "list-timers", "--all", "--no-pager"])).stdout, new RegExp(uuid));
    assert.notEqual((await c.exec(["systemctl", "is-active", timerName()])).stdout.trim(), "active");
});

test("package removal stops and removes the VM's timer and keeps its settings; configure after a reinstall sets the timer up again", { skip: unavailable ?? false, timeout: 120_000 }, async () => {
    const c = container!;
    const on = await helper(["set-settings", "--domain", vm!.name, "--folder", path.join(work, "backups"), "--schedule", "daily", "--time", "03:17"]);
    assert.equal(on.code, 0, on.stderr);
    assert.equal((await c.exec(["systemctl", "is-active", timerName()])).stdout.trim(), "active");
    const settings = (await c.execOk(["cat", `/etc/cockpit-virtnbdbackup/vms/${uuid}.json`])).stdout;
    // The package's scripts as dpkg runs them on `apt-get remove` (the helper stays bound in: only the scripts are tested).
    const debian = path.join(path.dirname(DIST), "debian");
    const maintainer = (name: string, arg: string) => c.execOk(["sh", "-s", "--", arg], { input: fs.readFileSync(path.join(debian, name), "utf8") });
    await maintainer("prerm", "remove");
    assert.notEqual((await c.exec(["systemctl", "is-active", timerName()])).stdout.trim(), "active", "prerm stopped the timer");
    await maintainer("postrm", "remove");
    for (const type of ["timer", "service"])
        assert.notEqual((await c.exec(["test", "-e", unitFile(type)])).code, 0, `${unitFile(type)} is left after remove`);
    assert.notEqual((await c.exec(["test", "-e", `/etc/systemd/system/timers.target.wants/${timerName()}`])).code, 0);
    assert.doesNotMatch((await c.execOk(["systemctl", "list-timers", "--all", "--no-pager"])).stdout, new RegExp(uuid));
    assert.equal((await c.exec(["systemctl", "cat", timerName()])).code !== 0, true, "systemd still knows the timer");
    assert.equal((await c.execOk(["cat", `/etc/cockpit-virtnbdbackup/vms/${uuid}.json`])).stdout, settings, "remove kept the settings");
    // A reinstall: postinst configure runs the helper where the package puts it.
    await c.execOk(["ln", "-sfn", path.join(DIST, "helper"), "/usr/lib/cockpit-virtnbdbackup"]);
    await maintainer("postinst", "configure");
    assert.equal((await c.exec(["systemctl", "is-active", timerName()])).stdout.trim(), "active");
    const show = await c.execOk(["systemctl", "show", timerName(), "-p", "TimersCalendar"]);
    assert.match(show.stdout, /OnCalendar=\*-\*-\* 03:17:00/);
    await maintainer("prerm", "remove");
    await maintainer("postrm", "purge");
    assert.notEqual((await c.exec(["test", "-e", "/etc/cockpit-virtnbdbackup"])).code, 0, "purge left the settings");
    assert.doesNotMatch((await c.execOk(["systemctl", "list-timers", "--all", "--no-pager"])).stdout, new RegExp(uuid));
});
