// SPDX-License-Identifier: GPL-3.0-or-later
// A backup that fails, is cancelled or crashes leaves the chain as it was: no complete-looking file,
// no checkpoint a later incremental would trust, no running libvirt job. Bad input changes nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { jobLeftovers } from "../lib/job-dirs.ts";
import { compareImages, type TestVm } from "../lib/vm.ts";
import { testBed } from "../lib/test-bed.ts";
import { listFolder, ourBackup, ourBackupOk, ourCli, pyRestore } from "../lib/backup-cli.ts";
import { run, runOk } from "../lib/exec.ts";
import { lockJob } from "../../helper/backup/lock.ts";

const bed = testBed({ name: "fail" });
let vm: TestVm;
let work: string;

bed.before(async () => {
    work = bed.work;
    vm = await bed.vm({
        disks: [
            { size: "512M", writes: [{ offset: "0", length: "200M", random: true, seed: 11 }, { offset: "300M", length: "8M", pattern: 0x3c }] },
            { size: "64M", writes: [{ offset: "0", length: "4M", pattern: 0x21 }] },
        ],
    });
});

/** Starts our CLI with --json and sends `signal` once the first disk has started copying. */
function backupInterrupted(args: string[], signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [ourCli("virtnbdbackup"), "--json", "-w", "1", ...args], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let stderr = "";
        let sent = false;
        child.stdout.on("data", (b: Buffer) => {
            out += b.toString();
            if (!sent && /"event":"disk"/.test(out)) {
                sent = true;
                child.kill(signal);
            }
        });
        child.stderr.on("data", (b: Buffer) => { stderr += b.toString() });
        child.on("error", reject);
        child.on("close", (code, sig) => {
            if (!sent)
                reject(new Error(`the backup ended before it could be interrupted: ${stderr}`));
            else
                resolve({ code, signal: sig, stderr });
        });
    });
}

async function restoredIdentical(dir: string, label: string, expected: string[], extra: string[] = []) {
    const out = path.join(work, `restore-${label}`);
    await pyRestore(["-i", dir, "-o", out, ...extra]);
    for (let i = 0; i < vm.disks.length; i++) {
        const result = await compareImages(path.join(out, path.basename(vm.disks[i].path)), expected[i]);
        assert.ok(result.identical, `${label} ${vm.disks[i].dev}: ${result.output}`);
    }
}

test("bad input: one clear line, exit 1, nothing changed", async () => {
    const empty = path.join(work, "empty");
    fs.mkdirSync(empty);
    const before = await vm.checkpoints();
    const cases: [string[], RegExp][] = [
        [["-d", "no-such-vm-xyz", "-l", "full", "-o", empty], /no virtual machine named no-such-vm-xyz/],
        [["-d", vm.name, "-l", "inc", "-o", empty], /needs a full backup in the target folder first/],
        [["-d", vm.name, "-l", "diff", "-o", empty], /needs a full backup/],
        [["-d", vm.name, "-l", "full", "-o", "/etc/hostname/backup"], /cannot write to the target folder/],
        [["-d", vm.name, "-l", "weekly", "-o", empty], /argument 'weekly' is invalid/],
        [["-d", vm.name, "-l", "full", "-o", empty, "-w", "0"], /expected a whole number/],
        [["-d", vm.name, "-l", "inc", "-t", "raw", "-o", empty], /needs a full backup|raw output holds only/],
    ];
    for (const [args, message] of cases) {
        const r = await ourBackup(args);
        assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, message, args.join(" "));
        assert.equal(r.stderr.trim().split("\n").filter(l => !l.startsWith("warning:")).length, 1, r.stderr);
    }
    assert.deepEqual(listFolder(empty), []);
    assert.deepEqual(await vm.checkpoints(), before);
    assert.equal(await vm.jobType(), "None");

    // A full into a folder that holds a backup.
    const used = path.join(work, "used");
    await ourBackupOk(["-d", vm.name, "-l", "copy", "-o", used]);
    const files = listFolder(used);
    const r = await ourBackup(["-d", vm.name, "-l", "full", "-o", used]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already holds a backup/);
    assert.deepEqual(listFolder(used), files);
    assert.deepEqual(await vm.checkpoints(), before);
});

test("cancel (SIGTERM) mid-backup leaves no restore point, checkpoint or job; the next inc is exact", async () => {
    const dir = path.join(work, "cancel");
    await ourBackupOk(["-d", vm.name, "-l", "full", "-o", dir]);
    const cpt = fs.readFileSync(path.join(dir, `${vm.name}.cpt`), "utf8");
    const filesBefore = listFolder(dir);
    await vm.write(0, { offset: "100M", length: "150M", random: true, seed: 5 });
    await vm.write(1, { offset: "8M", length: "1M", pattern: 0x99 });

    const r = await backupInterrupted(["-d", vm.name, "-l", "inc", "-o", dir], "SIGTERM");
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cancelled by SIGTERM/);
    assert.deepEqual(listFolder(dir), filesBefore, "no file of the cancelled run is left");
    assert.equal(fs.readFileSync(path.join(dir, `${vm.name}.cpt`), "utf8"), cpt);
    assert.deepEqual(await vm.checkpoints(), ["virtnbdbackup.0"]);
    assert.equal(await vm.jobType(), "None");
    const uuid = (await runOk("virsh", ["-c", "qemu:///system", "domuuid", "--domain", vm.name])).stdout.trim();
    assert.deepEqual(jobLeftovers(uuid), [], "the job's socket and scratch directories are removed");

    await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", dir]);
    assert.deepEqual(await vm.checkpoints(), ["virtnbdbackup.0", "virtnbdbackup.1"]);
    await restoredIdentical(dir, "after-cancel", [vm.expectedPath(0), vm.expectedPath(1)]);
});

test("a run killed with SIGKILL is cleaned up by the next run, which is exact", async () => {
    const dir = path.join(work, "killed");
    await ourBackupOk(["-d", vm.name, "-l", "full", "-o", dir]);
    const filesBefore = listFolder(dir);
    await vm.write(0, { offset: "50M", length: "120M", random: true, seed: 9 });

    const r = await backupInterrupted(["-d", vm.name, "-l", "inc", "-o", dir], "SIGKILL");
    assert.equal(r.signal, "SIGKILL");
    // The dead run left its job, its checkpoint and a partial file behind ...
    assert.notEqual(await vm.jobType(), "None");
    assert.ok((await vm.checkpoints()).includes("virtnbdbackup.1"));

    // ... and the next run clears all of that before it starts.
    const next = await ourBackup(["-d", vm.name, "-l", "inc", "-o", dir]);
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, /ending the backup job a killed run left/);
    const uuid = (await runOk("virsh", ["-c", "qemu:///system", "domuuid", "--domain", vm.name])).stdout.trim();
    assert.deepEqual(jobLeftovers(uuid), [], "the dead run's socket and scratch directories are gone");
    assert.match(next.stderr, /deleting checkpoints a failed run left: virtnbdbackup.1/);
    assert.deepEqual(await vm.checkpoints(), ["virtnbdbackup.0", "virtnbdbackup.1"]);
    assert.equal(await vm.jobType(), "None");
    assert.ok(listFolder(dir).every(n => filesBefore.includes(n) || /\.1\./.test(n) || n === "checkpoints"), listFolder(dir).join(" "));
    await restoredIdentical(dir, "after-kill", [vm.expectedPath(0), vm.expectedPath(1)]);
});

test("a second job on the same VM is refused and changes nothing", async () => {
    const dir = path.join(work, "second");
    fs.mkdirSync(dir);
    const before = await vm.checkpoints();
    // Another of our runs holds the VM's lock.
    const uuid = (await runOk("virsh", ["-c", "qemu:///system", "domuuid", "--domain", vm.name])).stdout.trim();
    const lock = await lockJob(uuid, vm.name);
    try {
        const r = await ourBackup(["-d", vm.name, "-l", "full", "-o", dir]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, new RegExp(`another backup or restore job is running for ${vm.name} \\(process ${process.pid}\\)`));
    } finally {
        lock.release();
    }
    // Someone else's libvirt backup job runs on the VM.
    const xml = path.join(work, "foreign-backup.xml");
    fs.writeFileSync(xml, `<domainbackup mode='pull'><server transport='unix' socket='/var/tmp/vnbt-${process.pid}-foreign.sock'/><disks><disk name='vda' backup='yes' type='file'><scratch file='/var/tmp/vnbt-${process.pid}-foreign.scratch'/></disk><disk name='vdb' backup='no'/></disks></domainbackup>`);
    await runOk("virsh", ["-c", "qemu:///system", "backup-begin", "--domain", vm.name, "--backupxml", xml]);
    try {
        const r = await ourBackup(["-d", vm.name, "-l", "full", "-o", dir]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /another backup job is running on .*, not started by this tool \(its NBD socket: \/var\/tmp\/vnbt-\d+-foreign\.sock\)/);
        assert.notEqual(await vm.jobType(), "None", "the other job was not touched");
    } finally {
        await runOk("virsh", ["-c", "qemu:///system", "domjobabort", "--domain", vm.name]);
    }
    assert.deepEqual(listFolder(dir), []);
    assert.deepEqual(await vm.checkpoints(), before);
});

test("a full target disk (ENOSPC) fails cleanly: no files, no checkpoint, no job", async (t) => {
    const mnt = path.join(work, "small");
    fs.mkdirSync(mnt);
    // mode=0700: a tmpfs is 1777 by default, which the helper refuses as a backup folder (writable by every user).
    const mount = await run("mount", ["-t", "tmpfs", "-o", "size=24M,mode=0700", "tmpfs", mnt]);
    if (mount.code !== 0) {
        t.skip(`cannot mount a tmpfs here: ${mount.stderr}`);
        return;
    }
    try {
        const before = await vm.checkpoints();
        const r = await ourBackup(["-d", vm.name, "-l", "full", "-o", mnt]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /ENOSPC|no space left/i);
        assert.match(r.stderr, /vda\.full\.data/, "the error names the file that could not be written");
        assert.deepEqual(listFolder(mnt).filter(n => n !== ".virtnbdbackup.journal"), []);
        assert.ok(!fs.existsSync(path.join(mnt, ".virtnbdbackup.journal")));
        assert.equal(await vm.jobType(), "None");
        // The failed full removed the old chain's checkpoints (as a full does) and kept none of its own.
        assert.ok(!(await vm.checkpoints()).some(n => !before.includes(n)));
    } finally {
        await runOk("umount", [mnt]);
    }
});

test("a failure after the copy, while the job ends, undoes the run: no new files, checkpoint or job", async () => {
    const dir = path.join(work, "late-failure");
    await ourBackupOk(["-d", vm.name, "-l", "full", "-o", dir]);
    await vm.write(0, { offset: "20M", length: "2M", pattern: 0x5a });
    // A file in the way of the inc's qemu-img info record (asked and written while the job ends): the data
    // is copied, then recording fails.
    const inTheWay = path.join(dir, "vda.virtnbdbackup.1.qcow.json");
    fs.writeFileSync(inTheWay, "not ours\n");
    const filesBefore = listFolder(dir);
    const cpt = fs.readFileSync(path.join(dir, `${vm.name}.cpt`), "utf8");

    const r = await ourBackup(["-d", vm.name, "-l", "inc", "-o", dir, "--json"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /vda\.virtnbdbackup\.1\.qcow\.json already exists/);
    assert.match(r.stdout, /"event":"disk-done","dev":"vda"/, "the failure came after the copy");
    assert.deepEqual(listFolder(dir), filesBefore, "no file of the failed run is left");
    assert.equal(fs.readFileSync(inTheWay, "utf8"), "not ours\n");
    assert.equal(fs.readFileSync(path.join(dir, `${vm.name}.cpt`), "utf8"), cpt);
    assert.deepEqual(await vm.checkpoints(), ["virtnbdbackup.0"]);
    assert.equal(await vm.jobType(), "None");

    // Out of the way, the next inc has the changes.
    fs.rmSync(inTheWay);
    await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", dir]);
    assert.deepEqual(await vm.checkpoints(), ["virtnbdbackup.0", "virtnbdbackup.1"]);
    await restoredIdentical(dir, "after-late-failure", [vm.expectedPath(0), vm.expectedPath(1)]);
});

test("a lost bitmap (QEMU killed) makes the next inc a full that continues the chain", async () => {
    const dir = path.join(work, "fallback");
    await ourBackupOk(["-d", vm.name, "-l", "full", "-o", dir]);
    // Earlier guest writes must reach the images first, or the kill loses them and the expectation is off.
    for (let i = 0; i < vm.disks.length; i++)
        await vm.hmp(`qemu-io -d ${await vm.qdevPath(i)} "flush"`);
    // SIGKILL: QEMU cannot save its bitmaps.
    const pid = vm.qemuPid();
    assert.ok(pid);
    process.kill(pid!, "SIGKILL");
    for (let i = 0; i < 50 && await vm.isActive(); i++)
        await new Promise(r => setTimeout(r, 100));
    await vm.start();
    await vm.write(0, { offset: "400M", length: "2M", pattern: 0x6b });

    const r = await ourBackup(["-d", vm.name, "-l", "inc", "-o", dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /making a full backup instead \(checkpoint virtnbdbackup.1\)/);
    assert.ok(fs.existsSync(path.join(dir, "vda.full.virtnbdbackup.1.data")));
    const atFallback = [await vm.snapshotExpected(0, "fallback"), await vm.snapshotExpected(1, "fallback")];

    await vm.write(1, { offset: "30M", length: "1M", pattern: 0x6c });
    await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", dir]);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, `${vm.name}.cpt`), "utf8")),
        ["virtnbdbackup.0", "virtnbdbackup.1", "virtnbdbackup.2"]);
    assert.deepEqual(await vm.checkpoints(), ["virtnbdbackup.1", "virtnbdbackup.2"]);
    // The real virtnbdrestore restores the new sub-chain when given it as a sequence.
    for (let i = 0; i < 2; i++) {
        const dev = vm.disks[i].dev;
        const out = path.join(work, `restore-fallback-${dev}`);
        await pyRestore(["-i", dir, "-o", out, "-s", `${dev}.full.virtnbdbackup.1.data`]);
        const cmp = await compareImages(path.join(out, dev), atFallback[i]);
        assert.ok(cmp.identical, `${dev}: ${cmp.output}`);
        const out2 = path.join(work, `restore-fallback2-${dev}`);
        await pyRestore(["-i", dir, "-o", out2, "-s", `${dev}.full.virtnbdbackup.1.data,${dev}.inc.virtnbdbackup.2.data`]);
        const cmp2 = await compareImages(path.join(out2, dev), vm.expectedPath(i));
        assert.ok(cmp2.identical, `${dev}: ${cmp2.output}`);
    }
});

test("guest writes during the backup do not leak into it: the backup is the disk at job start", async () => {
    const dir = path.join(work, "fleecing");
    const atStart = [await vm.snapshotExpected(0, "fleece"), await vm.snapshotExpected(1, "fleece")];
    // Stop our process once the job runs and its first disk is being copied, write, then let it go on:
    // the writes certainly happen while libvirt's job is active.
    const child = spawn(process.execPath, [ourCli("virtnbdbackup"), "--json", "-d", vm.name, "-l", "full", "-o", dir], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => { stderr += b.toString() });
    const exited = new Promise<number | null>(resolve => child.on("close", code => resolve(code)));
    let paused = false;
    await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (b: Buffer) => {
            out += b.toString();
            if (!paused && /"event":"disk"/.test(out)) {
                paused = true;
                child.kill("SIGSTOP");
                resolve();
            }
        });
        child.on("close", () => paused || reject(new Error(`finished before it could be paused: ${stderr}`)));
    });
    try {
        assert.notEqual(await vm.jobType(), "None");
        await vm.write(0, { offset: "0", length: "4M", pattern: 0xf0 });
        await vm.write(0, { offset: "190M", length: "8M", pattern: 0xf1 });
        await vm.write(1, { offset: "0", length: "1M", zero: true });
    } finally {
        child.kill("SIGCONT");
    }
    assert.equal(await exited, 0, stderr);
    await restoredIdentical(dir, "fleecing", atStart, ["-u", "virtnbdbackup.0"]);
    // The writes are in the VM all the same, and the next inc has them.
    await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", dir]);
    await restoredIdentical(dir, "fleecing-inc", [vm.expectedPath(0), vm.expectedPath(1)]);
});
