// SPDX-License-Identifier: GPL-3.0-or-later
// The Python tool's flags for scripts: -p (estimate only), -T (threshold), -e (strict exit code), -k (end a
// backup job left running), -L (messages to syslog, read back from the real rsyslogd's file). Runs that make no backup change nothing: no file, folder or checkpoint.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { compareImages, type TestVm } from "../lib/vm.ts";
import { testBed } from "../lib/test-bed.ts";
import { listFolder, ourBackup, ourBackupOk, ourCli, pyRestore } from "../lib/backup-cli.ts";
import { run, runOk } from "../lib/exec.ts";
import { jobLeftovers } from "../lib/job-dirs.ts";
import { lockJob } from "../../helper/backup/lock.ts";
import { ensureSyslog, SYSLOG_FILE } from "../lib/syslog.ts";

const URI = "qemu:///system";
const bed = testBed({ name: "flags" });
let vm: TestVm;
let work: string;

bed.before(async () => {
    work = bed.work;
    vm = await bed.vm({ disks: [{ size: "64M", writes: [{ offset: "0", length: "8M", random: true, seed: 5 }] }] });
});

/** The folder's names and the VM's checkpoints, to show that a run changed neither. */
async function snapshot(dir: string): Promise<{ files: string[]; checkpoints: string[] }> {
    return { files: listFolder(dir), checkpoints: await vm.checkpoints() };
}

const MiB = 1024 * 1024;

test("-p prints libvirt's estimate of the bytes changed since the last checkpoint, -T skips an inc below it; neither changes anything", async () => {
    const dir = path.join(work, "estimate");
    await ourBackupOk(["-d", vm.name, "-l", "full", "-o", dir]);
    await vm.write(0, { offset: "20M", length: "2M", pattern: 0x5a });
    const before = await snapshot(dir);

    const p = await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", dir, "-p"]);
    const estimate = Number(/^(\d+) bytes changed since virtnbdbackup\.0\b/m.exec(p.stdout)?.[1]);
    assert.ok(estimate >= 2 * MiB && estimate < 16 * MiB, `estimate of 2 MiB written: ${p.stdout}`);
    assert.deepEqual(await snapshot(dir), before);

    const skipped = await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", dir, "-T", String(estimate + 1), "--json"]);
    const result = skipped.stdout.split("\n").filter(Boolean).map(l => JSON.parse(l) as Record<string, unknown>).find(e => e.event === "result");
    assert.equal(result?.skipped, true);
    assert.equal(result?.changedBytes, estimate);
    assert.deepEqual(await snapshot(dir), before, "a skipped inc leaves the folder and the checkpoints as they were");

    // At the threshold the inc is made, and the chain restores exactly.
    const expected = await vm.snapshotExpected(0, "flags-inc");
    await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", dir, "-T", String(estimate)]);
    assert.ok(listFolder(dir).includes("vda.inc.virtnbdbackup.1.data"), listFolder(dir).join(" "));
    const out = path.join(work, "estimate-restored");
    await pyRestore(["-i", dir, "-o", out]);
    const compared = await compareImages(path.join(out, path.basename(vm.disks[0].path)), expected);
    assert.ok(compared.identical, compared.output);
});

test("-p has nothing to estimate for a full or a missing folder: a clear error, and no folder made", async () => {
    const missing = path.join(work, "no-such", "folder");
    const full = await ourBackup(["-d", vm.name, "-l", "full", "-o", missing, "-p"]);
    assert.equal(full.code, 1);
    assert.match(full.stderr, /no estimate: a full backup copies every allocated byte/);
    const inc = await ourBackup(["-d", vm.name, "-l", "inc", "-o", missing, "-p"]);
    assert.equal(inc.code, 1);
    assert.match(inc.stderr, /needs a full backup/);
    assert.ok(!fs.existsSync(path.join(work, "no-such")), "the folders a refused run made are gone");
});

test("-e: a backup that succeeded with warnings (no guest agent to freeze with) exits 2; without -e, 0", async () => {
    const dir = path.join(work, "strict");
    const strict = await ourBackup(["-d", vm.name, "-l", "full", "-o", dir, "-e"]);
    assert.equal(strict.code, 2, strict.stderr);
    assert.match(strict.stderr, /no QEMU guest agent/);
    assert.match(strict.stderr, /exit code 2 \(--strict\)/);
    assert.ok(listFolder(dir).includes("vda.full.data"), "the backup itself is complete");
    const plain = await ourBackup(["-d", vm.name, "-l", "inc", "-o", dir]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stderr, /no QEMU guest agent/);
});

test("-k ends a backup job left running, says so when none runs, and leaves a running backup of ours alone", async () => {
    const socket = `/var/tmp/vnbt-${process.pid}-flags.sock`;
    const scratch = `/var/tmp/vnbt-${process.pid}-flags.scratch`;
    const xml = path.join(work, "job.xml");
    fs.writeFileSync(xml, `<domainbackup mode='pull'><server transport='unix' socket='${socket}'/>` +
        `<disks><disk name='vda' backup='yes' type='file'><scratch file='${scratch}'/></disk></disks></domainbackup>`);
    await runOk("virsh", ["-c", URI, "backup-begin", "--domain", vm.name, "--backupxml", xml]);
    try {
        assert.equal(await vm.jobType(), "Unbounded");
        // -o is not needed to end a job.
        const k = await ourBackupOk(["-d", vm.name, "-k"]);
        assert.match(k.stdout, new RegExp(`ended the backup job of ${vm.name}, started by another program \\(its NBD socket: ${socket}\\)`));
        assert.equal(await vm.jobType(), "None");
    } finally {
        if (await vm.jobType() !== "None")
            await runOk("virsh", ["-c", URI, "domjobabort", "--domain", vm.name]);
        fs.rmSync(socket, { force: true });
        fs.rmSync(scratch, { force: true });
    }
    const none = await ourBackupOk(["-d", vm.name, "-k"]);
    assert.match(none.stdout, /no backup job is running/);

    const uuid = (await runOk("virsh", ["-c", URI, "domuuid", "--domain", vm.name])).stdout.trim();
    const lock = await lockJob(uuid, vm.name);
    try {
        const refused = await ourBackup(["-d", vm.name, "-k"]);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /another backup or restore job is running/);
    } finally {
        lock.release();
    }
});

test("-L also sends the run's messages to syslog: plan, warnings, the result", async (t) => {
    const syslog = await ensureSyslog();
    try {
        if (!syslog.ours) {
            t.skip("a syslog daemon of the host listens on /dev/log: its messages are not in a file this test knows");
            return;
        }
        const dir = path.join(work, "syslog");
        const r = await ourBackupOk(["-d", vm.name, "-l", "copy", "-o", dir, "-n", "-L"]);
        assert.match(r.stderr, /no QEMU guest agent/, "the terminal still gets the warning");
        const wanted = [
            new RegExp(`virtnbdbackup\\[\\d+\\]: copy backup of ${vm.name}: vda`),
            new RegExp(`virtnbdbackup\\[\\d+\\]: ${vm.name} has no QEMU guest agent channel`),
            new RegExp(`virtnbdbackup\\[\\d+\\]: copy backup of ${vm.name} done in [\\d.]+ s: .*vda\\.copy\\.data`),
        ];
        let text = "";
        for (let i = 0; i < 100; i++) {
            text = fs.existsSync(SYSLOG_FILE) ? fs.readFileSync(SYSLOG_FILE, "utf8") : "";
            if (wanted.every(re => re.test(text)))
                break;
            await new Promise(resolve => setTimeout(resolve, 100));
        }
        for (const re of wanted)
            assert.match(text, re);
    } finally {
        await syslog.stop();
    }
});

test("-o is required except with -k", async () => {
    const r = await ourBackup(["-d", vm.name, "-l", "full"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /required option '-o, --output <dir>'/);
});

test("-o - (the Python tool's zip on stdout) is refused: exit 1, one line, no folder named \"-\", nothing on stdout", async () => {
    const cwd = fs.mkdtempSync(path.join(work, "dash-"));
    const before = await vm.checkpoints();
    const r = await run(process.execPath, [ourCli("virtnbdbackup"), "-d", vm.name, "-l", "full", "-o", "-"], { cwd });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /-o - \(a zip archive of the backup on stdout\) is not supported: give a target folder/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.deepEqual(fs.readdirSync(cwd), []);
    assert.deepEqual(await vm.checkpoints(), before);
});

test("--scratchdir: the scratch files go into a directory of the run's own inside it, removed at the end; a folder others can write is refused", async (t) => {
    // QEMU (the libvirt-qemu user) opens the scratch files by path: the folder must be reachable by it.
    const scratch = fs.mkdtempSync(path.join("/var/tmp", `vnbt-${process.pid}-scratch-`));
    fs.chmodSync(scratch, 0o755);
    t.after(() => fs.rmSync(scratch, { recursive: true, force: true }));
    const uuid = (await runOk("virsh", ["-c", URI, "domuuid", "--domain", vm.name])).stdout.trim();
    const dir = path.join(work, "scratchdir");
    // libvirt creates the scratch files when the job starts: inotify sees every name made in the folder.
    const seen = new Set<string>();
    const watcher = fs.watch(scratch, (_event, name) => { if (name) seen.add(name); });
    try {
        const r = await ourBackupOk(["-d", vm.name, "-l", "full", "-o", dir, "--scratchdir", scratch, "-v"]);
        assert.match(r.stderr, /full backup of .* done/);
    } finally {
        watcher.close();
    }
    assert.equal(seen.size, 1, [...seen].join(" "));
    assert.ok([...seen].every(n => new RegExp(`^virtnbdbackup\\.${uuid}\\.[0-9a-f]{16}$`).test(n)), [...seen].join(" "));
    assert.deepEqual(fs.readdirSync(scratch), [], "nothing is left in the scratch folder");
    assert.deepEqual(jobLeftovers(uuid, scratch), []);

    fs.chmodSync(scratch, 0o777);
    const before = await vm.checkpoints();
    const refused = await ourBackup(["-d", vm.name, "-l", "copy", "-o", path.join(work, "scratch-refused"), "--scratchdir", scratch]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refusing scratch folder .*: .* is writable by group or others \(mode 777\)/);
    assert.deepEqual(fs.readdirSync(scratch), []);
    assert.deepEqual(await vm.checkpoints(), before);
    assert.equal(await vm.jobType(), "None");
});
