// SPDX-License-Identifier: GPL-3.0-or-later
// Start from backup (helper/instant): a new VM on qcow2 overlays over the mapped restore point of a real
// backup of a test VM, started by the real helper in real libvirt, served by the real nbdkit. At start its
// disk equals the point; a write in it changes the overlay and no backup file; Discard leaves no VM,
// overlay, record, mapping or process; a SIGKILLed holder's leftovers go at the next start; Move to storage
// copies the running VM's disk (point + its writes) and drops overlay and mapping; a move stopped by SIGTERM
// or killed by SIGKILL while it copies leaves no block job and no copy (the killed one's are found by the next
// listing), the VM running on its overlay; bad input is refused with one line and changes nothing.
// Runs alone: it compares the host's maps and instant-recovery folders before and after.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { run, runOk } from "../lib/exec.ts";
import type { TestVm } from "../lib/vm.ts";
import { ourBackupOk, ourCli } from "../lib/backup-cli.ts";
import { removePluginState } from "../lib/plugin-state.ts";
import { MAPS_DIR } from "../../helper/map/map-dirs.ts";
import { INSTANT_DIR } from "../../helper/instant/instant-record.ts";
import { processAlive } from "../../helper/tools/proc.ts";
import { testBed } from "../lib/test-bed.ts";

// QEMU (libvirt-qemu) reaches the overlays below the work folder.
const bed = testBed({ name: "instant", workMode: 0o711, everyVm: true });
let tmp = "";
const helper = () => path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");
const started: string[] = [];

bed.before(() => {
    tmp = bed.work;
});

bed.onTeardown(async () => {
    for (const name of started)
        await run(process.execPath, [helper(), "discard-instant-vm", "--name", name]);
});

function checksums(dir: string): Map<string, string> {
    const sums = new Map<string, string>();
    for (const name of fs.readdirSync(dir, { recursive: true }) as string[]) {
        const file = path.join(dir, name);
        if (fs.statSync(file).isFile())
            sums.set(name, createHash("sha256").update(fs.readFileSync(file)).digest("hex"));
    }
    return sums;
}

const listing = (dir: string) => fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];

async function vmState(name: string): Promise<string | null> {
    const r = await run("virsh", ["-c", "qemu:///system", "domstate", name]);
    return r.code === 0 ? r.stdout.trim() : null;
}

function holderPid(name: string): number {
    return (JSON.parse(fs.readFileSync(path.join(INSTANT_DIR, `${name}.json`), "utf8")) as { pid: number }).pid;
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** libvirt's block job on the disk (`virsh blockjob --raw`: empty when there is none). */
async function blockJob(name: string, dev: string): Promise<string> {
    return (await runOk("virsh", ["-c", "qemu:///system", "blockjob", name, dev, "--raw"])).stdout.trim();
}

/** Starts a move throttled to 1 MiB/s; returns once its block job copies (the move and how it will end). */
async function throttledMove(name: string, folder: string) {
    const child = spawn(process.execPath, [helper(), "move-instant-vm", "--name", name, "--folder", folder, "--bandwidth", "1"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => stderr += b.toString());
    child.stdout.resume();
    const ended = new Promise<{ code: number | null; stderr: string }>(resolve => child.on("close", code => resolve({ code, stderr })));
    let job = "";
    for (let i = 0; i < 600 && !/cur=\d+/.test(job) && child.exitCode === null; i++) {
        await sleep(100);
        job = await blockJob(name, "vda");
    }
    const copying = /cur=(\d+)\s+end=(\d+)/.exec(job);
    assert.ok(copying && Number(copying[1]) < Number(copying[2]), `copying: ${job} ${stderr}`);
    return { child, ended };
}

async function interruptedMove(name: string, folder: string, sig: NodeJS.Signals) {
    const move = await throttledMove(name, folder);
    move.child.kill(sig);
    return move.ended;
}

async function startFromBackup(vm: TestVm, name: string, folder: string, point = "virtnbdbackup.0") {
    return run(process.execPath, [helper(), "start-from-backup", "--domain", vm.name, "--point", point, "--name", name, "--folder", folder],
        { timeoutMs: 240_000 });
}

test("start from backup: runs at once on overlays, leaves the backup alone, discards cleanly, cleans after a SIGKILL", async () => {
    const vm = await bed.vm({ disks: [{ size: "96M", writes: [
        { offset: 0, length: "4M", random: true, seed: 11 }, { offset: "50M", length: "1M", pattern: 0x3c }] }] });
    const uuid = bed.uuid(vm);
    const backup = path.join(tmp, "backup");
    const overlays = path.join(tmp, "overlays");
    try {
        await ourBackupOk(["-d", vm.name, "-l", "full", "-o", backup]);
        const atPoint = await vm.snapshotExpected(0, "p0");
        await runOk(process.execPath, [helper(), "set-settings", "--domain", vm.name, "--folder", backup, "--schedule", "off"]);
        const before = checksums(backup);

        // Bad input: one line, nothing made.
        const name = `${vm.name}-i`;
        const refusals: [string[], RegExp][] = [
            [["--point", "virtnbdbackup.9", "--name", name, "--folder", overlays], /^helper: virtnbdbackup\.9 is not a complete restore point of /],
            [["--point", "virtnbdbackup.0", "--name", vm.name, "--folder", overlays], /^helper: a virtual machine named .* exists already$/],
        ];
        const open = path.join(tmp, "open");
        fs.mkdirSync(open, { mode: 0o777 });
        fs.chmodSync(open, 0o777);
        refusals.push([["--point", "virtnbdbackup.0", "--name", name, "--folder", path.join(open, "x")], /^helper: .*open/]);
        // Overlays never go into the backup folder (its files would count as backups) nor above it.
        refusals.push([["--point", "virtnbdbackup.0", "--name", name, "--folder", path.join(backup, "overlays")], /^helper: the overlay folder may not be the backup folder or inside it$/]);
        refusals.push([["--point", "virtnbdbackup.0", "--name", name, "--folder", tmp], /^helper: the overlay folder may not contain the backup folder$/]);
        for (const [args, message] of refusals) {
            const r = await run(process.execPath, [helper(), "start-from-backup", "--domain", vm.name, ...args]);
            assert.equal(r.code, 1, r.stderr);
            assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
            assert.match(r.stderr.trim(), message);
        }
        assert.equal(fs.existsSync(overlays), false);
        assert.equal(fs.existsSync(path.join(backup, "overlays")), false);
        assert.deepEqual(listing(path.join(open)), []);
        assert.equal(await vmState(name), null);

        // Start: running in seconds on an overlay over the mapped point.
        const t0 = Date.now();
        const r = await startFromBackup(vm, name, overlays);
        const seconds = (Date.now() - t0) / 1000;
        assert.equal(r.code, 0, r.stderr);
        started.push(name);
        const answer = JSON.parse(r.stdout) as { event: string; state: string; disks: { dev: string; overlay: string }[] };
        assert.equal(answer.state, "running");
        console.log(`# start from backup: running after ${seconds.toFixed(1)} s`);
        assert.equal(await vmState(name), "running");
        const overlay = answer.disks[0].overlay;
        assert.equal(path.dirname(overlay), fs.realpathSync(overlays));
        const info = JSON.parse((await runOk("qemu-img", ["info", "-U", "--output=json", overlay])).stdout) as { format: string; "backing-filename": string };
        assert.equal(info.format, "qcow2");
        assert.match(info["backing-filename"], /^nbd\+unix:\/\/\/\?socket=\/run\/virtnbdbackup\/maps\//);
        const xml = (await runOk("virsh", ["-c", "qemu:///system", "dumpxml", name])).stdout;
        assert.ok(!xml.includes(uuid), "a new uuid");
        assert.equal((await runOk("qemu-img", ["compare", "-U", "-F", "raw", overlay, atPoint])).code, 0, "the new VM's disk is the point");
        // The page lists the VMs started from one VM's backups, with libvirt's state.
        const listed = async (domain: string) => (JSON.parse((await runOk(process.execPath, [helper(), "list-instant-vms", "--domain", domain])).stdout) as
            { vms: { name: string; domain: string; point: string; state: string; vmState: string | null; alive: boolean }[] }).vms;
        assert.deepEqual((await listed(vm.name)).map(v => [v.name, v.domain, v.point, v.state, v.vmState, v.alive]),
                         [[name, vm.name, "virtnbdbackup.0", "running", "running", true]]);
        assert.deepEqual(await listed(`${vm.name}-other`), []);

        // A write in the new VM goes to its overlay, never into the backup.
        const blocks = await runOk("virsh", ["-c", "qemu:///system", "qemu-monitor-command", name, JSON.stringify({ execute: "query-block" })]);
        const qdev = (JSON.parse(blocks.stdout) as { return: { qdev?: string; inserted?: { file?: string } }[] }).return
                .find(b => b.inserted?.file?.includes(overlay))?.qdev;  // json:{...} naming the overlay and its NBD backing
        assert.ok(qdev, blocks.stdout);
        for (const command of ["write -q -P 0xa7 1M 2M", "flush"])
            assert.equal((await runOk("virsh", ["-c", "qemu:///system", "qemu-monitor-command", name, "--hmp", `qemu-io -d ${qdev} "${command}"`])).stdout.trim(), "");
        const compared = await run("qemu-img", ["compare", "-U", "-F", "raw", overlay, atPoint]);
        assert.equal(compared.code, 1, compared.stdout + compared.stderr);
        assert.deepEqual(checksums(backup), before, "every backup file unchanged");

        // Discard: nothing left.
        const holder = holderPid(name);
        const mapsBefore = listing(MAPS_DIR);
        assert.ok(mapsBefore.length > 0);
        const discarded = await run(process.execPath, [helper(), "discard-instant-vm", "--name", name]);
        assert.equal(discarded.code, 0, discarded.stderr);
        started.splice(started.indexOf(name), 1);
        assert.equal(await vmState(name), null);
        assert.deepEqual(listing(overlays), []);
        assert.equal(fs.existsSync(path.join(INSTANT_DIR, `${name}.json`)), false);
        // The record goes just before the holder exits.
        for (let i = 0; i < 50 && processAlive(holder); i++)
            await new Promise(resolve => setTimeout(resolve, 100));
        assert.equal(processAlive(holder), false);
        for (const dir of mapsBefore)
            assert.equal(fs.existsSync(path.join(MAPS_DIR, dir)), false, `map ${dir} removed`);
        assert.deepEqual(checksums(backup), before);

        // A SIGKILLed holder: the next start removes its VM, overlay, record and mapping.
        const r2 = await startFromBackup(vm, name, overlays);
        assert.equal(r2.code, 0, r2.stderr);
        started.push(name);
        const killedMaps = listing(MAPS_DIR);
        process.kill(holderPid(name), "SIGKILL");
        const other = `${vm.name}-j`;
        const r3 = await startFromBackup(vm, other, overlays);
        assert.equal(r3.code, 0, r3.stderr);
        started.push(other);
        assert.equal(await vmState(name), null, "the killed holder's VM is gone");
        assert.equal(fs.existsSync(path.join(INSTANT_DIR, `${name}.json`)), false);
        assert.deepEqual(listing(overlays), [`${other}.vda.qcow2`, `${other}.xml`]);
        for (const dir of killedMaps)
            assert.equal(fs.existsSync(path.join(MAPS_DIR, dir)), false, `map ${dir} of the killed holder removed`);
        started.splice(started.indexOf(name), 1);

        // Discard while a move copies: the move stops first (its copy goes), then the VM goes.
        const storage = path.join(tmp, "storage");
        const third = `${vm.name}-k`;
        assert.equal((await startFromBackup(vm, third, overlays)).code, 0);
        started.push(third);
        const moving = await throttledMove(third, storage);
        const discardedMoving = await run(process.execPath, [helper(), "discard-instant-vm", "--name", third]);
        assert.equal(discardedMoving.code, 0, discardedMoving.stderr);
        started.splice(started.indexOf(third), 1);
        assert.equal((await moving.ended).code, 1);
        assert.equal(await vmState(third), null);
        assert.deepEqual(listing(storage), []);
        assert.deepEqual(listing(overlays), [`${other}.vda.qcow2`, `${other}.xml`]);

        // Move to storage: a write in it, its disk copied while it runs; then neither overlay nor mapping.
        const otherHolder = holderPid(other);
        const otherMaps = listing(MAPS_DIR);
        const blocks2 = await runOk("virsh", ["-c", "qemu:///system", "qemu-monitor-command", other, JSON.stringify({ execute: "query-block" })]);
        const qdev2 = (JSON.parse(blocks2.stdout) as { return: { qdev?: string; inserted?: { file?: string } }[] }).return
                .find(b => b.inserted?.file?.includes(`${other}.vda.qcow2`))?.qdev;
        assert.equal((await runOk("virsh", ["-c", "qemu:///system", "qemu-monitor-command", other, "--hmp", `qemu-io -d ${qdev2} "write -q -P 0x5e 60M 1M"`])).stdout.trim(), "");
        const expected = path.join(tmp, "expected-moved.raw");
        await runOk("cp", ["--sparse=always", atPoint, expected]);
        await runOk("qemu-io", ["-f", "raw", "-c", "write -q -P 0x5e 60M 1M", expected]);
        const intoBackups = await run(process.execPath, [helper(), "move-instant-vm", "--name", other, "--folder", path.join(backup, "moved")]);
        assert.equal(intoBackups.stderr, "helper: the folder for the moved disks may not be the backup folder or inside it\n");
        // A move stopped or killed while it copies: no job, no copy; the VM runs on its overlay, movable again.
        const recordOf = (n: string) => JSON.parse(fs.readFileSync(path.join(INSTANT_DIR, `${n}.json`), "utf8")) as { move?: unknown; files: string[] };
        const onOverlay = async () => {
            assert.equal(await blockJob(other, "vda"), "");
            assert.match((await runOk("virsh", ["-c", "qemu:///system", "domjobinfo", other])).stdout, /^Job type:\s+None/m);
            assert.deepEqual(listing(storage), []);
            assert.equal(await vmState(other), "running");
            const blk = (await runOk("virsh", ["-c", "qemu:///system", "domblklist", other])).stdout;
            assert.match(blk, new RegExp(`vda\\s+${fs.realpathSync(overlays)}/${other}\\.vda\\.qcow2`), blk);
            assert.equal(recordOf(other).move, undefined);
        };
        const first = await throttledMove(other, storage);
        const second = await run(process.execPath, [helper(), "move-instant-vm", "--name", other, "--folder", path.join(tmp, "elsewhere")]);
        assert.equal(second.stderr, `helper: ${other} is being moved already (process ${first.child.pid})\n`);
        first.child.kill("SIGTERM");
        const stopped = await first.ended;
        assert.equal(stopped.code, 1, stopped.stderr);
        assert.equal(stopped.stderr, `helper: the move of ${other} was stopped (SIGTERM); it runs on as before\n`);
        await onOverlay();
        const killed = await interruptedMove(other, storage, "SIGKILL");
        assert.equal(killed.code, null);
        assert.deepEqual(listing(storage), [`${other}.vda.moved.qcow2`], "the killed move's copy, until the next look");
        assert.ok((recordOf(other).move as { files: string[] }).files.length === 1);
        assert.equal((await run(process.execPath, [helper(), "list-instant-vms", "--domain", vm.name])).code, 0);
        await onOverlay();

        const moved = await run(process.execPath, [helper(), "move-instant-vm", "--name", other, "--folder", storage], { timeoutMs: 240_000 });
        assert.equal(moved.code, 0, moved.stderr);
        started.splice(started.indexOf(other), 1);
        const copy = path.join(fs.realpathSync(storage), `${other}.vda.moved.qcow2`);
        // Progress lines (disk by disk, bytes of the whole disk at the end), the copies last.
        const lines = moved.stdout.trim().split("\n").map(l => JSON.parse(l) as { event: string; dev?: string; index?: number; count?: number; done?: number; total?: number; disks?: string[] });
        assert.deepEqual(lines.at(-1), { event: "moved", name: other, disks: [copy] });
        const progress = lines.slice(0, -1);
        assert.ok(progress.length >= 2 && progress.every(p => p.event === "progress" && p.dev === "vda" && p.index === 0 && p.count === 1), moved.stdout);
        assert.deepEqual([progress[0].done, progress.at(-1)!.done, progress.at(-1)!.total], [0, 96 * 2 ** 20, 96 * 2 ** 20]);
        assert.ok(progress.every((p, i) => i === 0 || p.done! >= progress[i - 1].done! || p.total !== progress[i - 1].total), moved.stdout);
        try {
            assert.equal(await vmState(other), "running");
            for (let i = 0; i < 50 && processAlive(otherHolder); i++)
                await new Promise(resolve => setTimeout(resolve, 100));
            assert.equal(processAlive(otherHolder), false);
            assert.equal(fs.existsSync(path.join(INSTANT_DIR, `${other}.json`)), false);
            for (const dir of otherMaps)
                assert.equal(fs.existsSync(path.join(MAPS_DIR, dir)), false, `map ${dir} dropped`);
            assert.deepEqual(listing(overlays), []);
            const inactive = (await runOk("virsh", ["-c", "qemu:///system", "dumpxml", "--inactive", other])).stdout;
            assert.ok(inactive.includes(copy) && !inactive.includes("nbd"), inactive);
            const standalone = JSON.parse((await runOk("qemu-img", ["info", "-U", "--output=json", copy])).stdout) as { "backing-filename"?: string };
            assert.equal(standalone["backing-filename"], undefined);
            const same = await run("qemu-img", ["compare", "-U", "-F", "raw", copy, expected]);
            assert.equal(same.code, 0, same.stdout + same.stderr);
        } finally {
            await run("virsh", ["-c", "qemu:///system", "destroy", other]);
            await run("virsh", ["-c", "qemu:///system", "undefine", other, "--nvram"]);
        }
        assert.deepEqual(checksums(backup), before);
        assert.deepEqual(listing(INSTANT_DIR).filter(n => n.startsWith(vm.name)), [], "no record or holder output left");
    } finally {
        removePluginState([uuid]);
    }
});
