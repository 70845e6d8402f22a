// SPDX-License-Identifier: GPL-3.0-or-later
// Job history on disk and the host-wide job queue, on real VMs through the helper as the page calls it:
// records of real backups and restores (ok, failed with the engine's reason, cancelled, a SIGKILLed job
// that shows as failed), kept across helper runs and the loss of /run; with at most 1 backup job at once,
// a second backup waits ("queued") until the first is done, then runs, and its backup restores exactly; waiting
// backups get the free slot in the order they were started; a restore refused by the VM's lock is recorded.
// Runs alone: it changes the host-wide job queue's size.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { tryLock } from "fileio-node";
import { run, runOk } from "../lib/exec.ts";
import { ensureLibvirtd, LIBVIRT_URI } from "../lib/libvirtd.ts";
import { HISTORY_DIR, JOBS_DIR, removePluginState } from "../lib/plugin-state.ts";
import { compareImages, TestVm } from "../lib/vm.ts";
import { ourCli } from "../lib/backup-cli.ts";
import { SLOT_DIR } from "../../helper/jobs/job-slots.ts";
import { privateDir } from "../../helper/backup/run-dir.ts";
import { lockJob } from "../../helper/backup/lock.ts";
import type { HistoryRecord } from "../../helper/protocol/job-types.ts";

const HELPER = path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");
const HOST_FILE = "/etc/cockpit-virtnbdbackup/host.json";

async function helper(args: string[]): Promise<unknown> {
    const r = await run(process.execPath, [HELPER, ...args], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `helper ${args.join(" ")}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

interface Status { id: string; state: string; queuedSince?: number; runnerPid: number | null; message?: string }

const status = (vm: TestVm) => helper(["job-status", "--domain", vm.name]) as Promise<Status>;
const history = async (vm: TestVm) => ((await helper(["job-history", "--domain", vm.name])) as { records: HistoryRecord[] }).records;

async function waitFor<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 180_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let v = await get();
    while (!ok(v)) {
        if (Date.now() > deadline)
            assert.fail(`${what}: still ${JSON.stringify(v)}`);
        await new Promise(resolve => setTimeout(resolve, 250));
        v = await get();
    }
    return v;
}

const ended = (vm: TestVm) => waitFor(`${vm.name}'s job`, () => status(vm), s => s.state !== "running");

/** Holds slot `i` of the job queue from this test process (as a running backup's runner would). */
function holdSlot(i: number): () => void {
    privateDir(SLOT_DIR, 0o700);
    const fd = fs.openSync(path.join(SLOT_DIR, `slot-${i}.lock`), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    assert.ok(tryLock(fd), `slot ${i} is free`);
    return () => fs.closeSync(fd);
}

describe("job history and the host-wide job queue", { timeout: 900_000 }, () => {
    let stopLibvirtd: (() => Promise<void>) | undefined;
    const vms: TestVm[] = [];
    const uuids: string[] = [];
    let work = "";
    let hostBefore: string | undefined;

    before(async () => {
        stopLibvirtd = await ensureLibvirtd();
        work = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-history-`));
        hostBefore = fs.existsSync(HOST_FILE) ? fs.readFileSync(HOST_FILE, "utf8") : undefined;
        for (let i = 0; i < 3; i++) {
            const vm = await TestVm.create({ disks: [{ size: "24M", writes: [{ offset: "1M", length: "3M", random: true, seed: 40 + i }] }] });
            vms.push(vm);
            uuids.push((await runOk("virsh", ["-c", LIBVIRT_URI, "domuuid", "--domain", vm.name])).stdout.trim());
            await helper(["set-settings", "--domain", vm.name, "--folder", path.join(work, `b${i}`)]);
        }
    });

    after(async () => {
        if (hostBefore === undefined)
            fs.rmSync(HOST_FILE, { force: true });
        else
            fs.writeFileSync(HOST_FILE, hostBefore);
        for (const vm of vms)
            await vm.cleanup();
        removePluginState(uuids);
        if (work)
            fs.rmSync(work, { recursive: true, force: true });
        await stopLibvirtd?.();
    });

    it("records a backup and a restore (ok, bytes, level, log), root-only on disk", async () => {
        const [vm] = vms;
        await helper(["start-backup", "--domain", vm!.name, "--level", "auto"]);
        assert.equal((await ended(vm!)).state, "succeeded");
        await helper(["start-restore", "--domain", vm!.name, "--point", "virtnbdbackup.0", "--target", path.join(work, "r0")]);
        assert.equal((await ended(vm!)).state, "succeeded");
        const result = await compareImages(path.join(work, "r0", path.basename(vm!.disks[0]!.path)), vm!.expectedPath(0));
        assert.ok(result.identical, result.output);

        const [restore, backup] = await history(vm!);
        assert.equal(backup!.type, "backup");
        assert.equal(backup!.kind, "manual");
        // Test VMs have no guest agent: a crash-consistent backup, which the record keeps as a warning.
        assert.equal(backup!.result, "warnings", JSON.stringify(backup));
        assert.match(backup!.warnings.join("\n"), /no QEMU guest agent/);
        assert.equal(backup!.queuedSeconds, undefined, "it did not wait for a slot");
        assert.equal(backup!.level, "full");
        assert.equal(backup!.point, "virtnbdbackup.0");
        assert.equal(backup!.bytes, 3 * 1024 * 1024, "the data bytes of the one written range");
        assert.ok(backup!.endedAt! >= backup!.startedAt && backup!.seconds! >= 0);
        assert.equal(restore!.type, "restore");
        assert.equal(restore!.result, "ok");
        assert.equal(restore!.point, "virtnbdbackup.0");
        assert.equal(restore!.bytes, 3 * 1024 * 1024, "the data bytes written into the image");
        const log = (await helper(["job-log", "--domain", vm!.name, "--id", backup!.id])) as { text: string };
        assert.match(log.text, /plan: full backup virtnbdbackup\.0, 1 disk/);
        assert.match(log.text, /disk vda done: 3145728 bytes/);

        const dir = path.join(HISTORY_DIR, uuids[0]!);
        assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
        assert.equal(fs.statSync(HISTORY_DIR).mode & 0o777, 0o700);
        for (const f of fs.readdirSync(dir))
            assert.equal(fs.statSync(path.join(dir, f)).mode & 0o777, 0o600, f);

        // A bad run id changes nothing and says why.
        const bad = await run(process.execPath, [HELPER, "job-log", "--domain", vm!.name, "--id", "../x"]);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /not a run id/);
    });

    it("records a failed backup with the engine's reason, and a verify", async () => {
        const vm = vms[1]!;
        // An incremental needs a full first: the engine refuses, the history says so.
        await helper(["start-backup", "--domain", vm.name, "--level", "inc"]);
        const end = await ended(vm);
        assert.equal(end.state, "failed");
        const [failed] = await history(vm);
        assert.equal(failed!.result, "failed");
        assert.equal(failed!.error, end.message);
        assert.ok(failed!.error && failed!.error.length > 10, failed!.error);
    });

    it("a SIGKILLed job shows as failed, not running, in a helper started afterwards", async () => {
        const vm = vms[1]!;
        await helper(["set-host-settings", "--max-backup-jobs", "1"]);
        const release = holdSlot(0);
        try {
            await helper(["start-backup", "--domain", vm.name, "--level", "auto"]);
            const queued = await waitFor("queued", () => status(vm), s => s.queuedSince !== undefined);
            const [running] = await history(vm);
            assert.equal(running!.result, "running");
            process.kill(-queued.runnerPid!, "SIGKILL");  // the runner's whole process group
            const [dead] = await waitFor("failed record", () => history(vm), r => r[0]!.result !== "running", 10_000);
            assert.equal(dead!.id, queued.id);
            assert.equal(dead!.result, "failed");
            assert.match(dead!.error!, /ended unexpectedly/);
            assert.equal((await status(vm)).state, "failed");
        } finally {
            release();
        }
    });

    it("with at most 1 backup job at once, the second waits (queued, cancellable), then runs and restores exactly", async () => {
        const [a, b, c] = vms as [TestVm, TestVm, TestVm];
        assert.equal(((await helper(["get-host-settings"])) as { maxBackupJobs: number }).maxBackupJobs, 1);
        const release = holdSlot(0);
        let released = false;
        try {
            await helper(["start-backup", "--domain", a.name, "--level", "inc"]);
            await helper(["start-backup", "--domain", b.name, "--level", "auto"]);
            await helper(["start-backup", "--domain", c.name, "--level", "auto"]);
            for (const vm of [a, b, c])
                await waitFor(`${vm.name} queued`, () => status(vm), s => s.queuedSince !== undefined);
            // A waiting job can be cancelled.
            await helper(["cancel-job", "--domain", c.name]);
            assert.equal((await ended(c)).state, "cancelled");
            assert.equal((await history(c))[0]!.result, "cancelled");
            assert.equal((await status(a)).state, "running");

            release();
            released = true;
            // From now on at most one of a and b copies; the other waits until it is done.
            let waitedWhileOtherRan = false;
            const deadline = Date.now() + 240_000;
            // The state files as the runners write them (read directly: a helper run per poll is too slow to see a 1 s backup).
            const stateOf = (i: number): Status => JSON.parse(fs.readFileSync(path.join(JOBS_DIR, `${uuids[i]}.json`), "utf8"));
            for (;;) {
                const [sa, sb] = [stateOf(0), stateOf(1)];
                const active = [sa, sb].filter(s => s.state === "running" && s.queuedSince === undefined);
                assert.ok(active.length <= 1, `both run at once: ${JSON.stringify([sa, sb])}`);
                if (active.length === 1 && [sa, sb].some(s => s.state === "running" && s.queuedSince !== undefined))
                    waitedWhileOtherRan = true;
                if (sa.state !== "running" && sb.state !== "running")
                    break;
                assert.ok(Date.now() < deadline, "the queued jobs did not finish");
                await new Promise(resolve => setTimeout(resolve, 20));
            }
            assert.ok(waitedWhileOtherRan, "one backup waited, queued, while the other ran");
            assert.equal((await status(b)).state, "succeeded");
            const [rb] = await history(b);
            const [ra] = await history(a);
            // The two copies did not overlap: one's work ended before the other's began.
            const span = (r: HistoryRecord) => [r.endedAt! - r.seconds! * 1000, r.endedAt!] as const;
            const [[a0, a1], [b0, b1]] = [span(ra!), span(rb!)];
            assert.ok(a1 <= b0 + 50 || b1 <= a0 + 50, `overlapping runs: a ${a0}–${a1}, b ${b0}–${b1}`);
            assert.equal(rb!.result, "warnings", JSON.stringify(rb));
            assert.ok((rb!.queuedSeconds ?? 0) > 0, `the record tells the wait: ${JSON.stringify(rb)}`);
        } finally {
            if (!released)
                release();
        }
        await helper(["start-restore", "--domain", b.name, "--point", "virtnbdbackup.0", "--target", path.join(work, "rb")]);
        assert.equal((await ended(b)).state, "succeeded");
        const result = await compareImages(path.join(work, "rb", path.basename(b.disks[0]!.path)), b.expectedPath(0));
        assert.ok(result.identical, result.output);
    });

    it("bad queue settings are refused and change nothing", async () => {
        const before = fs.readFileSync(HOST_FILE, "utf8");
        for (const bad of ["0", "-1", "65", "1.5", "x", ""]) {
            const r = await run(process.execPath, [HELPER, "set-host-settings", "--max-backup-jobs", bad]);
            assert.equal(r.code, 2, bad);
            assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
            assert.match(r.stderr, /backup jobs at once|option/, r.stderr);
        }
        assert.equal(fs.readFileSync(HOST_FILE, "utf8"), before);
    });

    it("a restore refused by the VM's job lock before its runner starts is recorded as failed, with the reason", async () => {
        const vm = vms[1]!;
        // The lock taken between start-restore's check and its runner (here: held before the runner runs).
        const lock = await lockJob(uuids[1]!, vm.name);
        const id = `${Date.now().toString(36)}-0badc0de`;
        try {
            const r = await run(process.execPath, [HELPER, "run-restore-job", "--id", id, "--domain", vm.name, "--uuid", uuids[1]!,
                "--folder", path.join(work, "b1"), "--point", "virtnbdbackup.0", "--target", path.join(work, "r-locked")], { timeoutMs: 60_000 });
            assert.equal(r.code, 0, r.stderr);
        } finally {
            lock.release();
        }
        const [refused] = await history(vm);
        assert.equal(refused!.id, id);
        assert.equal(refused!.type, "restore");
        assert.equal(refused!.result, "failed");
        assert.match(refused!.error!, /another backup or restore job is running/);
        assert.ok(!fs.existsSync(path.join(work, "r-locked")), "nothing was written");
    });

    it("the history stays when /run is emptied (a reboot) and a new helper reads it", async () => {
        const vm = vms[0]!;
        const before = await history(vm);
        fs.rmSync(path.join(JOBS_DIR, `${uuids[0]}.json`), { force: true });
        assert.deepEqual(await history(vm), before);
        assert.deepEqual(before.map(r => `${r.type}:${r.result}`), ["backup:warnings", "restore:ok", "backup:warnings"]);
        const listed = (await helper(["list-vms"])) as { vms: { name: string; backup?: { lastBackup: { result: string } | null; totalSize: number | null; newestPoint: { level: string } | null } }[] };
        const row = listed.vms.find(v => v.name === vm.name)!;
        assert.equal(row.backup?.lastBackup?.result, "warnings");
        assert.equal(row.backup?.newestPoint?.level, "inc", "the incremental made while queued");
        assert.ok((row.backup?.totalSize ?? 0) > 3 * 1024 * 1024, JSON.stringify(row.backup));
    });

    it("free slots go to the waiting backups in the order they were started", async () => {
        assert.equal(((await helper(["get-host-settings"])) as { maxBackupJobs: number }).maxBackupJobs, 1);
        const order = [vms[2]!, vms[0]!, vms[1]!];
        const release = holdSlot(0);
        try {
            for (const vm of order) {
                await helper(["start-backup", "--domain", vm.name, "--level", "auto"]);
                await waitFor(`${vm.name} queued`, () => status(vm), s => s.queuedSince !== undefined);
            }
        } finally {
            release();
        }
        for (const vm of order)
            assert.equal((await ended(vm)).state, "succeeded");
        // When each one's work began (after its wait): in the order they were started.
        const began = await Promise.all(order.map(async vm => {
            const [r] = await history(vm);
            assert.equal(r!.type, "backup");
            return r!.endedAt! - r!.seconds! * 1000;
        }));
        assert.deepEqual([...began].sort((x, y) => x - y), began, `began at ${began.join(", ")}`);
    });
});
