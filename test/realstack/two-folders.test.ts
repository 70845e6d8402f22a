// SPDX-License-Identifier: GPL-3.0-or-later
// Two backup folders of one VM: libvirt's checkpoints belong to the VM, chains to a folder, and both chains
// name their checkpoints virtnbdbackup.N. No run may make an incremental against the other folder's
// checkpoint, and no run may delete a checkpoint another folder's chain needs without saying so. Every point
// a run reports restores exactly, with ours and with the real virtnbdrestore.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { type TestVm, compareImages } from "../lib/vm.ts";
import { events, ourBackup, ourCli, ourRestoreOk, pyRestore } from "../lib/backup-cli.ts";
import { runOk } from "../lib/exec.ts";
import { testBed } from "../lib/test-bed.ts";

const bed = testBed({ name: "two" });
let vm: TestVm;
let work: string;
let seed = 100;

bed.before(async () => {
    work = bed.work;
    vm = await bed.vm({
        disks: [
            { size: "64M", writes: [{ offset: "0", length: "4M", random: true, seed: 1 }, { offset: "40M", length: "2M", pattern: 0x3a }] },
            { size: "32M", writes: [{ offset: "1M", length: "1M", pattern: 0x12 }] },
        ],
    });
});

/** A point a run reported as made: its files (per disk) and the disks' expected content at that time. */
interface Point {
    folder: string;
    level: string;
    checkpoint: string;
    /** Base names of its data files, by disk (vda, vdb). */
    files: Map<string, string>;
    expected: string[];
    label: string;
}

const points: Point[] = [];

/** libvirt's checkpoints of the VM: name -> creation time and description (what tells one from another). */
async function libvirtCheckpoints(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const n of await vm.checkpoints()) {
        const xml = (await runOk("virsh", ["-c", "qemu:///system", "checkpoint-dumpxml", "--domain", vm.name, "--checkpointname", n, "--no-domain"])).stdout;
        // Creation time has 1 s resolution: the run token in the description tells two of one second apart.
        out.set(n, `${/<creationTime>(\d+)<\/creationTime>/.exec(xml)![1]} ${/<description>([^<]*)<\/description>/.exec(xml)?.[1] ?? ""}`);
    }
    return out;
}

/** Distinct guest writes on both disks (each run's point differs from every other's). */
async function guestWrites() {
    seed++;
    await vm.write(0, { offset: `${(seed % 50) + 4}M`, length: "1M", random: true, seed });
    await vm.write(0, { offset: `${(seed * 7) % 60}M`, length: "256K", pattern: seed & 0xff });
    await vm.write(1, { offset: `${(seed % 28) + 2}M`, length: "512K", random: true, seed: seed + 1000 });
}

interface Run {
    level: string;
    checkpoint: string;
    warnings: string[];
    infos: string[];
    deleted: string[];
}

/**
 * One run of our CLI into `folder`; the point it reports is remembered with the disks' expected content.
 * Every checkpoint libvirt lost during the run (by name, creation time and description) is returned in `deleted`.
 */
async function backup(folder: string, level: string, label: string, extra: string[] = []): Promise<Run> {
    const before = await libvirtCheckpoints();
    const r = await ourBackup(["-d", vm.name, "-l", level, "-o", folder, "--json", ...extra]);
    assert.equal(r.code, 0, `${label}: ${r.stderr}`);
    const evs = events(r.stdout);
    const result = evs.find(e => e.event === "result")!;
    const after = await libvirtCheckpoints();
    const deleted = [...before].filter(([n, t]) => after.get(n) !== t).map(([n]) => n);
    const files = new Map((result.files as string[]).map(f => [path.basename(f).split(".")[0], path.basename(f)]));
    const expected = [await vm.snapshotExpected(0, label), await vm.snapshotExpected(1, label)];
    points.push({ folder, level: String(result.level), checkpoint: String(result.checkpoint), files, expected, label });
    return {
        level: String(result.level),
        checkpoint: String(result.checkpoint),
        warnings: evs.filter(e => e.event === "warning").map(e => String(e.message)),
        infos: evs.filter(e => e.event === "info").map(e => String(e.message)),
        deleted,
    };
}

/** Every checkpoint a run deleted is named in one of its warnings (with the other folder, where given). */
function assertDeletionsNamed(run: Run, label: string, otherFolder?: string) {
    for (const name of run.deleted) {
        const named = run.warnings.filter(w => w.includes(name));
        assert.ok(named.length > 0, `${label}: ${name} was deleted without a warning naming it: ${JSON.stringify(run)}`);
        if (otherFolder)
            assert.ok(named.some(w => w.includes(otherFolder)), `${label}: the warning on ${name} names ${otherFolder}: ${named.join(" | ")}`);
    }
}

/** The files a restorer applies for a point: the last full of its folder at or before it, the incs after it, the point. */
function sequence(point: Point, dev: string): string[] {
    const own = points.filter(p => p.folder === point.folder);
    const upTo = own.slice(0, own.indexOf(point) + 1);
    let start = 0;
    upTo.forEach((p, i) => { if (p.level === "full") start = i; });
    return upTo.slice(start).filter(p => p === point || p.level !== "diff").map(p => p.files.get(dev)!);
}

/** Restores every point with ours (--until) and with the real virtnbdrestore (-s) and compares each disk. */
async function assertAllPointsRestore() {
    for (const point of points) {
        const ours = path.join(work, `ours-${point.label}`);
        const until = point.level === "diff" ? point.files.get("vda")! : point.checkpoint;
        await ourRestoreOk(["-i", point.folder, "-o", ours, "-u", until]);
        for (let i = 0; i < vm.disks.length; i++) {
            const dev = vm.disks[i].dev;
            const cmp = await compareImages(path.join(ours, path.basename(vm.disks[i].path)), point.expected[i]);
            assert.ok(cmp.identical, `ours, ${point.label} (${point.level} ${point.checkpoint}), ${dev}: ${cmp.output}`);
            const py = path.join(work, `py-${point.label}-${dev}`);
            await pyRestore(["-i", point.folder, "-o", py, "-s", sequence(point, dev).join(",")]);
            const cmp2 = await compareImages(path.join(py, dev), point.expected[i]);
            assert.ok(cmp2.identical, `virtnbdrestore, ${point.label} (${sequence(point, dev).join(",")}): ${cmp2.output}`);
        }
    }
}

test("full A, full B, inc A, inc B, ... on one running VM: no inc against the other folder's checkpoint, every point exact", async () => {
    const A = path.join(work, "A");
    const B = path.join(work, "B");
    const fallbackNote = /making a full backup instead \(checkpoint virtnbdbackup\.\d+\), the chain goes on from it/;
    // [folder, requested level, expected level]: a run after a run into the other folder cannot build an inc.
    const plan: [string, string, string][] = [
        [A, "full", "full"], [B, "full", "full"],
        [A, "inc", "full"], [B, "inc", "full"], [A, "inc", "full"], [B, "inc", "full"],
        [B, "inc", "inc"], [A, "auto", "full"], [A, "auto", "inc"], [B, "auto", "full"],
    ];
    for (const [i, [folder, level, expectLevel]] of plan.entries()) {
        const label = `${i}-${path.basename(folder)}-${level}`;
        await guestWrites();
        const other = folder === A ? B : A;
        const run = await backup(folder, level, label);
        assert.equal(run.level, expectLevel, `${label}: ${JSON.stringify(run)}`);
        if (level !== "full" && expectLevel === "full") {
            const fallback = run.warnings.find(w => fallbackNote.test(w));
            assert.ok(fallback, `${label}: the fallback full says why: ${JSON.stringify(run.warnings)}`);
            assert.match(fallback!, /is not this folder's|this folder did not make/, label);
        }
        if (i > 0)
            assertDeletionsNamed(run, label, other);
    }
    const chainA = JSON.parse(fs.readFileSync(path.join(A, `${vm.name}.cpt`), "utf8")) as string[];
    assert.deepEqual(chainA, ["virtnbdbackup.0", "virtnbdbackup.1", "virtnbdbackup.2", "virtnbdbackup.3", "virtnbdbackup.4"]);
    assert.ok(fs.existsSync(path.join(A, "vda.full.virtnbdbackup.3.data")) && fs.existsSync(path.join(A, "vda.inc.virtnbdbackup.4.data")));

    // Shut off: libvirt keeps the checkpoints. The folder of the last run may save the changes as a diff;
    // the other folder's last checkpoint is not libvirt's, and no full is possible offline: refused.
    await vm.shutdown();
    await vm.write(0, { offset: "10M", length: "1M", pattern: 0xab }, { offline: true });
    const refused = await ourBackup(["-d", vm.name, "-l", "inc", "-o", A]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /is not this folder's .*start the VM and back it up \(the backup will be a full that continues this folder's chain\)/);
    await backup(B, "inc", "offline-diff-B");
    assert.equal(points[points.length - 1].level, "diff");
    await vm.start();

    await assertAllPointsRestore();
    // A point's expectation is not any other's: the comparison can fail.
    assert.equal((await compareImages(points[2].expected[0], points[1].expected[0])).identical, false);
});

/** Starts our CLI with --json and kills it (SIGKILL) once the first disk is being copied (its checkpoint exists). */
function backupKilled(args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [ourCli("virtnbdbackup"), "--json", "-w", "1", ...args], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let sent = false;
        child.stdout.on("data", (b: Buffer) => {
            out += b.toString();
            if (!sent && /"event":"disk"/.test(out)) {
                sent = true;
                child.kill("SIGKILL");
            }
        });
        child.on("error", reject);
        child.on("close", () => sent ? resolve() : reject(new Error("the backup ended before it could be killed")));
    });
}

test("a dead run's checkpoint is deleted by its folder's next run; another folder's past the chain end is not deleted silently", async () => {
    points.length = 0;
    const C = path.join(work, "C");
    const D = path.join(work, "D");
    await guestWrites();
    await backup(C, "full", "c-full");
    // The killed run leaves its checkpoint (virtnbdbackup.1, carrying its token) in libvirt.
    await vm.write(0, { offset: "0", length: "48M", random: true, seed: 77 });
    await backupKilled(["-d", vm.name, "-l", "inc", "-o", C]);
    assert.ok((await libvirtCheckpoints()).has("virtnbdbackup.1"));
    const next = await backup(C, "inc", "c-inc1");
    assert.equal(next.level, "inc");
    assert.ok(next.warnings.some(w => /deleting checkpoints a failed run left: virtnbdbackup\.1$/.test(w)), JSON.stringify(next.warnings));

    // D is a copy of C (a branch of its chain): its inc is a true one and makes virtnbdbackup.2.
    await runOk("cp", ["-a", C, D]);
    points.push(...points.filter(p => p.folder === C).map(p => ({ ...p, folder: D, label: `d-${p.label}` })));
    await guestWrites();
    const dInc = await backup(D, "inc", "d-inc2");
    assert.equal(dInc.level, "inc");
    assert.equal(dInc.checkpoint, "virtnbdbackup.2");
    // C's chain ends at .1: libvirt's .2 is past its end, and not made by a dead run of C.
    await guestWrites();
    const cNext = await backup(C, "inc", "c-after-d");
    assert.equal(cNext.level, "full", JSON.stringify(cNext));
    assert.ok(cNext.warnings.some(w => /this folder did not make: virtnbdbackup\.2 \(of the backups in .*\/D\)/.test(w)), JSON.stringify(cNext.warnings));
    assert.deepEqual(cNext.deleted.sort(), ["virtnbdbackup.0", "virtnbdbackup.1", "virtnbdbackup.2"]);
    assert.ok(cNext.warnings.some(w => w.includes("virtnbdbackup.2") && w.includes(D) && /next backup there will be a full/.test(w)), JSON.stringify(cNext.warnings));
    assert.equal(cNext.checkpoint, "virtnbdbackup.2");
    await assertAllPointsRestore();
});

test("libvirt forgot the checkpoints while a same-named bitmap of another folder exists: no wrong incremental", async () => {
    points.length = 0;
    const E = path.join(work, "E");
    const F = path.join(work, "F");
    await guestWrites();
    await backup(E, "full", "e-full");
    await guestWrites();
    const fFull = await backup(F, "full", "f-full");
    assertDeletionsNamed(fFull, "f-full", E);
    // libvirt forgets F's checkpoint; its bitmap virtnbdbackup.0 stays in the images and keeps counting
    // the changes since F's full, not since E's.
    await runOk("virsh", ["-c", "qemu:///system", "checkpoint-delete", "--domain", vm.name, "--checkpointname", "virtnbdbackup.0", "--metadata"]);
    await guestWrites();
    const eInc = await backup(E, "inc", "e-inc");
    assert.equal(eInc.level, "full", JSON.stringify(eInc));
    assert.ok(eInc.warnings.some(w => /cannot be redefined from this folder: a checkpoint of that name was made since .*\/F\)/.test(w)), JSON.stringify(eInc.warnings));
    await guestWrites();
    const eInc2 = await backup(E, "inc", "e-inc2");
    assert.equal(eInc2.level, "inc");
    await assertAllPointsRestore();
});
