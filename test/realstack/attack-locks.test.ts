// SPDX-License-Identifier: GPL-3.0-or-later
// A local user must not be able to stop backups, and a run must not end another tool's job (issue 10,
// part 3), with a real unprivileged user made for this file: the names of the old lock and socket are
// taken by that user, the lock and job directories refuse the user, another tool's live job is left
// alone whatever the lock's pid file says, a closed stdout cancels a run cleanly, and back-to-back runs
// never find the previous run's job still there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createLocalUser, type LocalUser } from "../lib/local-user.ts";
import { jobLeftovers } from "../lib/job-dirs.ts";
import { type TestVm, compareImages } from "../lib/vm.ts";
import { listFolder, ourBackup, ourBackupOk, ourCli, ourRestoreOk, pyRestore } from "../lib/backup-cli.ts";
import { run, runOk } from "../lib/exec.ts";
import { JOBS_DIR, LOCK_DIR, RUN_DIR } from "../../helper/backup/run-dir.ts";
import { testBed } from "../lib/test-bed.ts";

const URI = "qemu:///system";
// Under /var/tmp, reachable by the user (the attacks plant things there too) but not writable by it.
const bed = testBed({ name: "attack", workParent: "/var/tmp", workMode: 0o755 });
let vm: TestVm;
let user: LocalUser;
let uuid: string;
let work: string;
const userProcesses: ChildProcess[] = [];

bed.before(async () => {
    work = bed.work;
    vm = await bed.vm({
        disks: [{ size: "512M", writes: [{ offset: "0", length: "160M", random: true, seed: 21 }, { offset: "300M", length: "4M", pattern: 0x4d }] }],
    });
    uuid = bed.uuid(vm);
    // The file's own teardown, newest first: the user's processes, the user, then what it planted.
    bed.onTeardown(() => {
        for (const p of plantedPaths())
            fs.rmSync(p, { recursive: true, force: true });
    });
    bed.onTeardown(() => user?.remove());
    bed.onTeardown(() => {
        for (const p of userProcesses)
            p.kill("SIGKILL");
    });
    user = await createLocalUser();
});

/** What the user plants in /var/tmp: the old socket path, scratch-like names (the last one a symlink to /etc). */
function plantedPaths(): string[] {
    return [`/var/tmp/virtnbdbackup.${uuid}.sock`, `/var/tmp/virtnbdbackup.${uuid}`, `/var/tmp/virtnbdbackup.${uuid}.0000000000000000`,
        "/var/tmp/backup.00000000.vda", `/var/tmp/virtnbdbackup.${uuid}.ffffffffffffffff`];
}

/** The VM's job directories and record left on the host, not counting what the user planted. */
function leftovers(): string[] {
    const planted = new Set(plantedPaths());
    return jobLeftovers(uuid).filter(p => !planted.has(p));
}

/** Runs a Python snippet as the user in the background until it prints `ready`; killed at the end (teardown). */
async function asUserInBackground(script: string): Promise<void> {
    const child = spawn("runuser", ["-u", user.name, "--", "/usr/bin/python3", "-c", script], { stdio: ["ignore", "pipe", "pipe"], cwd: "/" });
    userProcesses.push(child);
    let stderr = "";
    child.stderr!.on("data", (b: Buffer) => { stderr += b.toString(); });
    await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (b: Buffer) => { if (b.toString().includes("ready")) resolve(); });
        child.on("exit", code => reject(new Error(`the user's process exited (${code}): ${stderr}`)));
    });
}

async function restoresExactly(dir: string, label: string, expected: string) {
    const ours = path.join(work, `restore-${label}`);
    await ourRestoreOk(["-i", dir, "-o", ours]);
    const mine = await compareImages(path.join(ours, path.basename(vm.disks[0].path)), expected);
    assert.ok(mine.identical, `${label}, our restore: ${mine.output}`);
    const py = path.join(work, `restore-${label}-py`);
    await pyRestore(["-i", dir, "-o", py]);
    const theirs = await compareImages(path.join(py, path.basename(vm.disks[0].path)), expected);
    assert.ok(theirs.identical, `${label}, the real virtnbdrestore: ${theirs.output}`);
}

test("the user takes the old lock's name and plants directories at the old and guessable socket and scratch names: backups still work and restore exactly", async () => {
    // The abstract socket name the lock used to bind, and the fixed socket path the job used to have.
    await asUserInBackground(
        "import socket, time\n" +
        "s = socket.socket(socket.AF_UNIX)\n" +
        `s.bind("\\0/run/lock/virtnbdbackup/${uuid}")\n` +
        "s.listen()\n" +
        "print('ready', flush=True)\n" +
        "time.sleep(3600)\n");
    const planted = plantedPaths();
    for (const p of planted.slice(0, -1))
        await user.runOk("mkdir", ["-p", p]);
    await user.runOk("ln", ["-s", "/etc", planted.at(-1)!]);

    const dir = path.join(work, "planted");
    const full = await ourBackup(["-d", vm.name, "-l", "full", "-o", dir]);
    assert.equal(full.code, 0, full.stderr);
    await vm.write(0, { offset: "10M", length: "3M", random: true, seed: 22 });
    await vm.write(0, { offset: "300M", length: "1M", zero: true });
    const inc = await ourBackup(["-d", vm.name, "-l", "inc", "-o", dir]);
    assert.equal(inc.code, 0, inc.stderr);
    assert.deepEqual(await vm.checkpoints(), ["virtnbdbackup.0", "virtnbdbackup.1"]);
    await restoresExactly(dir, "planted", vm.expectedPath(0));

    for (const p of planted.slice(0, -1))
        assert.deepEqual(fs.readdirSync(p), [], `${p} is the user's and was left alone`);
    assert.equal(fs.readlinkSync(planted.at(-1)!), "/etc");
    assert.deepEqual(leftovers(), []);
    assert.equal(await vm.jobType(), "None");
});

test("the lock and job directories are root's: the user can neither list nor create, replace or connect to anything there", async () => {
    // Pause a backup while its job runs, so that its socket and scratch directories exist.
    const dir = path.join(work, "paused");
    const child = spawn(process.execPath, [ourCli("virtnbdbackup"), "--json", "-d", vm.name, "-l", "copy", "-o", dir], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => { stderr += b.toString(); });
    const exited = new Promise<number | null>(resolve => child.on("close", code => resolve(code)));
    await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (b: Buffer) => {
            out += b.toString();
            if (/"event":"disk"/.test(out) && !child.killed) {
                child.kill("SIGSTOP");
                resolve();
            }
        });
        child.on("close", () => reject(new Error(`finished before it could be paused: ${stderr}`)));
    });
    try {
        const jobDirs = fs.readdirSync(JOBS_DIR).filter(n => n.startsWith(`${uuid}.`));
        assert.equal(jobDirs.length, 1, jobDirs.join(" "));
        const socket = path.join(JOBS_DIR, jobDirs[0], "nbd.sock");
        assert.ok(fs.statSync(socket).isSocket());
        const scratch = leftovers().filter(p => p.startsWith("/var/tmp/")).map(p => path.basename(p));
        assert.equal(scratch.length, 1, scratch.join(" "));

        const refused: [string, string[]][] = [
            ["ls", [LOCK_DIR]],
            ["ls", [JOBS_DIR]],
            ["ls", [path.join(JOBS_DIR, jobDirs[0])]],
            ["ls", [path.join("/var/tmp", scratch[0])]],
            ["nbdinfo", [`nbd+unix:///vda?socket=${socket}`]],
            ["touch", [path.join(LOCK_DIR, `${uuid}.lock`)]],
            ["flock", ["--nonblock", path.join(LOCK_DIR, `${uuid}.lock`), "true"]],
            ["mkdir", [path.join(JOBS_DIR, `${uuid}.0000000000000000`)]],
            ["ln", ["-s", "/etc", path.join(JOBS_DIR, "x")]],
            ["mkdir", [path.join(RUN_DIR, "x")]],
            ["mv", [path.join(JOBS_DIR, jobDirs[0]), path.join("/var/tmp", `vnbt-${process.pid}-stolen`)]],
            ["mv", [path.join("/var/tmp", scratch[0]), path.join("/var/tmp", `vnbt-${process.pid}-stolen`)]],
            ["rm", ["-rf", path.join("/var/tmp", scratch[0])]],
        ];
        for (const [cmd, args] of refused) {
            const r = await user.run(cmd, args);
            assert.notEqual(r.code, 0, `${cmd} ${args.join(" ")} worked for the user`);
            assert.match(r.stderr, /Permission denied|Operation not permitted|Failed to connect|Cannot open|cannot/i, `${cmd}: ${r.stderr}`);
        }
        assert.ok(!fs.existsSync(path.join("/var/tmp", `vnbt-${process.pid}-stolen`)));
        assert.equal((await run("test", ["-w", "/run"])).code, 0, "root can write /run");
        assert.notEqual((await user.run("test", ["-w", "/run"])).code, 0, "the user cannot make /run/virtnbdbackup");
        for (const [dir, mode] of [[RUN_DIR, 0o711], [LOCK_DIR, 0o700], [JOBS_DIR, 0o711]] as const) {
            const st = fs.lstatSync(dir);
            assert.ok(st.isDirectory() && st.uid === 0 && (st.mode & 0o7777) === mode, `${dir}: ${st.uid} ${(st.mode & 0o7777).toString(8)}`);
        }
    } finally {
        child.kill("SIGCONT");
    }
    assert.equal(await exited, 0, stderr);
    assert.deepEqual(leftovers(), []);
    assert.ok(listFolder(dir).includes("vda.copy.data"));
});

test("a stale lock pid file and another tool's live backup job: the run refuses, and that job runs on", async () => {
    const before = await vm.checkpoints();
    // The pid of a process that is gone, as a run of ours killed with SIGKILL leaves it.
    const dead = spawn("true");
    await new Promise(resolve => dead.on("close", resolve));
    fs.writeFileSync(path.join(LOCK_DIR, `${uuid}.lock`), `${dead.pid}\n`);
    // "Another tool": a pull-mode job with its socket outside our directory (as the Python tool makes it).
    const foreign = fs.mkdtempSync(path.join("/var/tmp", `vnbt-${process.pid}-other-`));
    fs.chmodSync(foreign, 0o777);
    const xml = path.join(foreign, "backup.xml");
    fs.writeFileSync(xml, `<domainbackup mode='pull'><server transport='unix' socket='${foreign}/sock'/>` +
        `<disks><disk name='vda' backup='yes' type='file'><scratch file='${foreign}/vda.scratch'/></disk></disks></domainbackup>`);
    await runOk("virsh", ["-c", URI, "backup-begin", "--domain", vm.name, "--backupxml", xml]);
    try {
        const dir = path.join(work, "refused");
        for (const level of ["full", "inc"]) {
            const r = await ourBackup(["-d", vm.name, "-l", level, "-o", level === "inc" ? path.join(work, "planted") : dir]);
            assert.equal(r.code, 1, r.stderr);
            assert.match(r.stderr, new RegExp(`another backup job is running on ${vm.name}, not started by this tool \\(its NBD socket: ${foreign}/sock\\): left alone`));
            assert.doesNotMatch(r.stderr, /ending the backup job/);
            assert.equal(await vm.jobType(), "Unbounded", "the other tool's job still runs");
            assert.ok(fs.statSync(`${foreign}/sock`).isSocket(), "its socket is still there");
        }
        assert.ok(!fs.existsSync(dir));
        assert.deepEqual(await vm.checkpoints(), before);
        // -k is asked for explicitly: it ends any backup job and says whose it was.
        const k = await ourBackupOk(["-d", vm.name, "-k"]);
        assert.match(k.stdout, new RegExp(`ended the backup job of ${vm.name}, started by another program \\(its NBD socket: ${foreign}/sock\\)`));
        assert.equal(await vm.jobType(), "None");
    } finally {
        if (await vm.jobType() !== "None")
            await runOk("virsh", ["-c", URI, "domjobabort", "--domain", vm.name]);
        fs.rmSync(foreign, { recursive: true, force: true });
    }
});

test("a run killed with SIGKILL: the next run ends its job (ours by its socket), removes its directories, and -k names it ours", async () => {
    const dir = path.join(work, "killed");
    const child = spawn(process.execPath, [ourCli("virtnbdbackup"), "--json", "-d", vm.name, "-l", "full", "-o", dir], { stdio: ["ignore", "pipe", "ignore"] });
    await new Promise<void>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (b: Buffer) => {
            out += b.toString();
            if (/"event":"disk"/.test(out) && !child.killed) {
                child.kill("SIGKILL");
                resolve();
            }
        });
        child.on("close", () => child.killed || reject(new Error("finished before it could be killed")));
    });
    await new Promise(resolve => child.on("close", resolve));
    assert.notEqual(await vm.jobType(), "None");
    assert.ok(jobLeftovers(uuid).some(p => p.startsWith(JOBS_DIR)), "the dead run left its job directory");
    const k = await ourBackupOk(["-d", vm.name, "-k"]);
    assert.match(k.stdout, new RegExp(`ended the backup job of ${vm.name} \\(left by a run of this tool\\)`));
    assert.equal(await vm.jobType(), "None");
    assert.deepEqual(leftovers(), []);
});

test("a closed stdout (--json | head -n 1) or stderr cancels the run like SIGTERM: exit 1, no job, no new checkpoint, no new file", async () => {
    const dir = path.join(work, "epipe");
    await ourBackupOk(["-d", vm.name, "-l", "full", "-o", dir]);
    await vm.write(0, { offset: "20M", length: "100M", random: true, seed: 23 });
    const filesBefore = listFolder(dir);
    const cpt = fs.readFileSync(path.join(dir, `${vm.name}.cpt`), "utf8");
    const before = await vm.checkpoints();

    const child = spawn(process.execPath, [ourCli("virtnbdbackup"), "--json", "-w", "1", "-d", vm.name, "-l", "inc", "-o", dir], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => { stderr += b.toString(); });
    let first = "";
    child.stdout.on("data", (b: Buffer) => {
        first += b.toString();
        if (first.includes("\n"))
            child.stdout.destroy();  // the reader goes away after one line, as `head -n 1` does
    });
    const code = await new Promise<number | null>(resolve => child.on("close", c => resolve(c)));
    assert.equal(code, 1, stderr);
    assert.match(stderr, /cancelled: cannot write to stdout \(EPIPE\)/);
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
    assert.equal(await vm.jobType(), "None");
    assert.deepEqual(await vm.checkpoints(), before);
    assert.deepEqual(listFolder(dir).filter(n => !/^backup\.inc\..*\.log$/.test(n)), filesBefore, "no .partial or data file left");
    assert.equal(fs.readFileSync(path.join(dir, `${vm.name}.cpt`), "utf8"), cpt);

    // The same with stderr (-v writes each step there) closed after its first line.
    const quiet = spawn(process.execPath, [ourCli("virtnbdbackup"), "-v", "-w", "1", "-d", vm.name, "-l", "inc", "-o", dir], { stdio: ["ignore", "ignore", "pipe"] });
    let line = "";
    quiet.stderr.on("data", (b: Buffer) => {
        line += b.toString();
        if (line.includes("\n"))
            quiet.stderr.destroy();
    });
    assert.equal(await new Promise<number | null>(resolve => quiet.on("close", c => resolve(c))), 1);
    assert.equal(await vm.jobType(), "None");
    assert.deepEqual(await vm.checkpoints(), before);
    assert.deepEqual(listFolder(dir), filesBefore);

    // The restore CLI: the same, and no image left in the target.
    const target = path.join(work, "epipe-restore");
    const restore = spawn(process.execPath, [ourCli("virtnbdrestore"), "--json", "-i", dir, "-o", target], { stdio: ["ignore", "pipe", "pipe"] });
    let rstderr = "";
    restore.stderr.on("data", (b: Buffer) => { rstderr += b.toString(); });
    let rfirst = "";
    restore.stdout.on("data", (b: Buffer) => {
        rfirst += b.toString();
        if (rfirst.includes("\n"))
            restore.stdout.destroy();
    });
    const rcode = await new Promise<number | null>(resolve => restore.on("close", c => resolve(c)));
    assert.equal(rcode, 1, rstderr);
    assert.match(rstderr, /cancelled: cannot write to stdout \(EPIPE\)/);
    assert.doesNotMatch(rstderr, /\n\s+at /);
    assert.deepEqual(fs.existsSync(target) ? fs.readdirSync(target) : [], [], "nothing of the cancelled restore is left");

    // The next inc is exact.
    await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", dir]);
    await restoresExactly(dir, "after-epipe", vm.expectedPath(0));
});

test("20 back-to-back incs with nothing dirty: each starts without finding the last one's job, and each exits with no job left", async () => {
    const dir = path.join(work, "epipe");
    for (let i = 0; i < 20; i++) {
        const r = await ourBackup(["-d", vm.name, "-l", "inc", "-o", dir]);
        assert.equal(r.code, 0, `run ${i}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /already has a running|another backup job|ending the backup job/, `run ${i}`);
        assert.equal(await vm.jobType(), "None", `run ${i}: the job is gone when the CLI exits`);
    }
    await restoresExactly(dir, "after-20", vm.expectedPath(0));
});
