// SPDX-License-Identifier: GPL-3.0-or-later
// The helper in another PID namespace sharing /run/virtnbdbackup (a container bind-mounting the host's
// /run): there the host's processes are not in /proc, and its sweeps must not take the host's live
// mapping, instant-recovery record or browse session for leftovers (tools/proc.ts processLiveness). The
// other namespace is real (unshare --pid --fork --mount-proc), the mapping real (virtnbdmap serving a
// real backup, compared with its restore); a record of a process that really died in our own namespace
// is still swept.
// Runs alone: sweeps /run/virtnbdbackup records from another PID namespace
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { run } from "../lib/exec.ts";
import { ensureLibvirtd } from "../lib/libvirtd.ts";
import { TestVm } from "../lib/vm.ts";
import { ourBackupOk, ourRestoreOk, runHelper } from "../lib/backup-cli.ts";
import { startMap, type MappedDiskLine } from "../lib/map-cli.ts";
import { MAPS_DIR } from "../../helper/map/map-dirs.ts";
import { readRecord, recordFile, removeRecord, writeRecord, type InstantRecord } from "../../helper/instant/instant-record.ts";
import { sessionDir } from "../../helper/browse/paths.ts";
import { pidNamespace, processStartTime } from "../../helper/tools/proc.ts";

const NAME = "pid-namespace";
const HELPER = path.join(path.dirname(new URL(import.meta.url).pathname), "../../dist/helper/helper.js");
/** Runs a command in a new PID namespace with its own /proc (the command is its PID 1), the file systems shared. */
const UNSHARE = ["--pid", "--fork", "--mount-proc"];

let stopLibvirtd: () => Promise<void> = async () => {};
let tmp = "";
const sleepers: ChildProcess[] = [];
const sessions: string[] = [];
const records: string[] = [];

before(async () => {
    stopLibvirtd = await ensureLibvirtd();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-pidns-`));
});

after(async () => {
    for (const s of sleepers)
        s.kill("SIGKILL");
    for (const name of records)
        removeRecord(name);
    for (const id of sessions)
        fs.rmSync(sessionDir(id), { recursive: true, force: true });
    await TestVm.cleanupAll();
    fs.rmSync(tmp, { recursive: true, force: true });
    await stopLibvirtd();
});

/** The helper run in a new PID namespace. */
function helperElsewhere(args: string[]) {
    return run("unshare", [...UNSHARE, process.execPath, HELPER, ...args], { timeoutMs: 120_000 });
}

/** A live process of our namespace to name in records. */
async function liveProcess(): Promise<{ pid: number; start: string }> {
    const child = spawn("sleep", ["600"], { stdio: "ignore" });
    await once(child, "spawn");
    sleepers.push(child);
    return { pid: child.pid!, start: processStartTime(child.pid!)! };
}

/** A process of our namespace that has ended. */
async function deadProcess(): Promise<{ pid: number; start: string }> {
    const child = spawn("sleep", ["600"], { stdio: "ignore" });
    await once(child, "spawn");
    const start = processStartTime(child.pid!)!;
    child.kill("SIGKILL");
    await once(child, "exit");
    return { pid: child.pid!, start };
}

function instantRecord(name: string, holder: { pid: number; start: string; pidNs?: number }): InstantRecord {
    const rec: InstantRecord = { name, domain: `${NAME}-none`, point: "virtnbdbackup.0", state: "running", ...holder, files: [], disks: [], startedAt: Date.now() };
    writeRecord(rec);
    records.push(name);
    return rec;
}

function browseSession(id: string, keeper: { pid: number; start: string; pidNs?: number }): void {
    fs.mkdirSync(sessionDir(id), { mode: 0o700 });
    sessions.push(id);
    const state = { id, socket: "/nonexistent", exportName: "", created: Date.now(), idleSeconds: 600, keeper: { ...keeper, start: Number(keeper.start) }, volumes: [] };
    fs.writeFileSync(path.join(sessionDir(id), "state.json"), JSON.stringify(state), { mode: 0o600 });
}

/** The commands that sweep: browse-* (sessions and mappings), start-from-backup (instant VMs); both then fail on purpose. */
async function sweep(runner: (args: string[]) => ReturnType<typeof run>): Promise<void> {
    const browse = await runner(["browse-close", "--session", "0000000000000000"]);
    assert.match(browse.stderr + browse.stdout, /no browse session 0000000000000000/);
    const start = await runner(["start-from-backup", "--domain", `${NAME}-none`, "--point", "virtnbdbackup.0",
        "--name", `${NAME}-nothing`, "--folder", path.join(tmp, "overlays")]);
    assert.notEqual(start.code, 0, start.stdout);
}

async function compareMapped(disk: MappedDiskLine, image: string): Promise<string> {
    const r = await run("qemu-img", ["compare", "-f", "raw", "-F", "qcow2", disk.uri, image]);
    return r.code === 0 ? "identical" : (r.stdout + r.stderr).trim();
}

test("the helper really runs in another PID namespace there", async () => {
    const r = await run("unshare", [...UNSHARE, process.execPath, "-e", "console.log(require('fs').statSync('/proc/self/ns/pid').ino, process.pid)"]);
    assert.equal(r.code, 0, r.stderr);
    const [ns, pid] = r.stdout.trim().split(" ").map(Number);
    assert.ok(ns > 0 && ns !== pidNamespace(), `another namespace: ${ns} vs ${pidNamespace()}`);
    assert.equal(pid, 1, "the first process of a new PID namespace");
});

test("sweeps in another PID namespace leave the host's live mapping, instant record and browse session alone; ours still sweep the dead", async () => {
    const vm = await TestVm.create({ disks: [{ size: "64M", writes: [{ offset: "1M", length: "3M", pattern: 0x6b }, { offset: "40M", length: "1M", random: true, seed: 5 }] }] });
    const backup = path.join(tmp, "backup");
    await ourBackupOk(["-d", vm.name, "-l", "full", "-o", backup]);
    const restored = path.join(tmp, "restored");
    await ourRestoreOk(["-i", backup, "-o", restored]);
    const image = path.join(restored, path.basename(vm.disks[0].path));

    const map = await startMap(["-i", backup]);
    try {
        assert.equal(await compareMapped(map.disks[0], image), "identical");
        const ownerBefore = fs.readFileSync(path.join(map.dir, "owner.json"), "utf8");
        assert.equal((JSON.parse(ownerBefore) as { pidNs?: number }).pidNs, pidNamespace(), "the owner record names its namespace");
        const holder = { ...await liveProcess(), pidNs: pidNamespace()! };
        instantRecord(`${NAME}-live`, holder);
        browseSession("7e57000000000001", holder);

        // The sweeping commands over there.
        await sweep(helperElsewhere);
        assert.ok(fs.existsSync(map.dir), "the host's mapping is still there");
        assert.equal(fs.readFileSync(path.join(map.dir, "owner.json"), "utf8"), ownerBefore);
        assert.equal(await compareMapped(map.disks[0], image), "identical", "the host's mapping still serves the point");
        assert.ok(readRecord(`${NAME}-live`), "the host's instant record is still there");
        assert.ok(fs.existsSync(path.join(sessionDir("7e57000000000001"), "state.json")), "the host's browse session is still there");

        // What would remove them there says why it does not.
        const discard = await helperElsewhere(["discard-instant-vm", "--name", `${NAME}-live`]);
        assert.notEqual(discard.code, 0);
        assert.match(discard.stderr, /in another PID namespace/);
        const close = await helperElsewhere(["browse-close", "--session", "7e57000000000001"]);
        assert.notEqual(close.code, 0);
        assert.match(close.stderr, /browse session 7e57000000000001 belongs to process \d+ in another PID namespace/);
        assert.ok(fs.existsSync(recordFile(`${NAME}-live`)) && fs.existsSync(sessionDir("7e57000000000001")));
        assert.ok(sleepers.every(s => s.exitCode === null && s.signalCode === null), "no host process was signalled");

        // Here: dead records of ours go, with or without the namespace field (an older version's), and
        // live ones stay; so does a record naming another namespace (a pid of ours that is dead here).
        const dead = await deadProcess();
        instantRecord(`${NAME}-dead`, { ...dead, pidNs: pidNamespace()! });
        instantRecord(`${NAME}-old-dead`, dead);
        browseSession("7e57000000000002", { ...dead, pidNs: pidNamespace()! });
        browseSession("7e57000000000003", dead);
        instantRecord(`${NAME}-elsewhere`, { ...dead, pidNs: 1 });
        const deadMap = path.join(MAPS_DIR, "7e57deadbeef0001");
        fs.mkdirSync(deadMap, { mode: 0o700 });
        fs.writeFileSync(path.join(deadMap, "owner.json"), JSON.stringify({ ...dead, pidNs: pidNamespace(), servers: [] }));
        await sweep(args => runHelper(args));
        assert.equal(readRecord(`${NAME}-dead`), null, "a dead holder's record is swept");
        assert.equal(readRecord(`${NAME}-old-dead`), null, "an older version's record of a dead holder is swept");
        assert.ok(!fs.existsSync(sessionDir("7e57000000000002")) && !fs.existsSync(sessionDir("7e57000000000003")), "dead keepers' sessions are closed");
        assert.ok(!fs.existsSync(deadMap), "a dead maker's mapping folder is removed");
        assert.ok(readRecord(`${NAME}-live`) && fs.existsSync(sessionDir("7e57000000000001")), "live ones stay");
        assert.ok(readRecord(`${NAME}-elsewhere`), "a record of another namespace stays, its pid dead here or not");
        assert.equal(await compareMapped(map.disks[0], image), "identical");
    } finally {
        assert.equal(await map.stop(), 0);
    }
});
