// SPDX-License-Identifier: GPL-3.0-or-later
// Restores chains made by the real virtnbdbackup (plain and lz4, two disks, full/inc/diff) at every
// restore point and compares each disk with the image the test bed kept for that point; -D defines a
// VM that starts.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { run, runOk } from "../lib/exec.ts";
import { LIBVIRT_URI } from "../lib/libvirtd.ts";
import { compareImages, TestVm } from "../lib/vm.ts";
import { ourBackupOk, ourRestore, ourRestoreOk, PY_BACKUP, pyRestore } from "../lib/backup-cli.ts";
import { testBed } from "../lib/test-bed.ts";

// The restored VM's QEMU (user libvirt-qemu) must reach the restored images.
const bed = testBed({ name: "restore", workMode: 0o755, everyVm: true });
let tmp = "";

bed.before(() => {
    tmp = bed.work;
});


type Backup = (vm: TestVm, level: string, dir: string) => Promise<void>;

/** The real (Python) virtnbdbackup. */
const realBackup = (compress: boolean): Backup => async (vm, level, dir) => {
    await runOk(PY_BACKUP, ["-d", vm.name, "-l", level, "-o", dir, "-n", ...(compress ? ["-z"] : [])], { timeoutMs: 300_000 });
};

/** This project's backup engine. */
const ourEngine = (compress: boolean): Backup => async (vm, level, dir) => {
    await ourBackupOk(["-d", vm.name, "-l", level, "-o", dir, ...(compress ? ["-z"] : [])]);
};

/** The file names of a folder that are not data files of the backup: what a restore produced. */
function outputs(dir: string): string[] {
    return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

interface Point {
    /** --until value; undefined = newest. */
    until?: string;
    /** Expected image per disk. */
    expected: string[];
}

/** Builds a chain full, inc, diff, inc, diff with live writes in between; returns every restore point. */
async function buildChain(vm: TestVm, dir: string, backup: Backup): Promise<Point[]> {
    const snap = async (label: string) => Promise.all(vm.disks.map((_, i) => vm.snapshotExpected(i, `${path.basename(dir)}-${label}`)));
    const newestDiff = () => fs.readdirSync(dir).filter(n => /^vda\.diff\.\d+\.data$/.test(n)).sort().pop()!;
    const points: Point[] = [];

    await backup(vm, "full", dir);
    points.push({ until: "virtnbdbackup.0", expected: await snap("p0") });

    await vm.write(0, { offset: "1M", length: "2M", pattern: 0xc1 });
    await vm.write(1, { offset: "5M", length: "1M", random: true, seed: 7 });
    await backup(vm, "inc", dir);
    points.push({ until: "virtnbdbackup.1", expected: await snap("p1") });

    await vm.write(0, { offset: "20M", length: "1M", pattern: 0xd1 });
    await vm.write(0, { offset: 0, length: "512K", zero: true });
    await backup(vm, "diff", dir);
    points.push({ until: newestDiff(), expected: await snap("d1") });

    // Diff idents are unix seconds: the next must not land in the same second.
    await new Promise(resolve => setTimeout(resolve, 1100));
    await vm.write(0, { offset: "30M", length: "40M", random: true, seed: 3 });
    await vm.write(1, { offset: "6M", length: "1M", zero: true });
    await backup(vm, "inc", dir);
    points.push({ until: "virtnbdbackup.2", expected: await snap("p2") });

    await vm.write(0, { offset: "2M", length: "64K", pattern: 0xe1 });
    await vm.write(1, { offset: 0, length: "128K", pattern: 0xe2 });
    await backup(vm, "diff", dir);
    points.push({ until: undefined, expected: await snap("d2") });
    return points;
}

async function checkEveryPoint(vm: TestVm, backup: string, points: Point[], label: string): Promise<void> {
    for (const [n, point] of points.entries()) {
        const out = path.join(tmp, `${label}-out-${n}`);
        const r = await ourRestore(["-i", backup, "-o", out, "-n", ...(point.until ? ["-u", point.until] : [])]);
        assert.equal(r.code, 0, `restore ${point.until ?? "newest"}: ${r.stderr}`);
        for (const [i, disk] of vm.disks.entries()) {
            const restored = path.join(out, path.basename(disk.path));
            const cmp = await compareImages(restored, point.expected[i]!);
            assert.ok(cmp.identical, `${label} ${point.until ?? "newest"} ${disk.dev}: ${cmp.output}`);
            const info = JSON.parse((await runOk("qemu-img", ["info", "--output=json", restored])).stdout) as { format: string; "virtual-size": number };
            assert.equal(info.format, "qcow2");
            assert.equal(info["virtual-size"], disk.size);
        }
        // The disks, and (as the other tool does) a copy of the restore point's domain config.
        const produced = outputs(out);
        assert.deepEqual(produced.filter(n => !/^vmconfig\..+\.xml$/.test(n)), [...vm.disks.map(d => path.basename(d.path))].sort(), "no partial or other files left");
        assert.equal(produced.filter(n => /^vmconfig\..+\.xml$/.test(n)).length, 1);
        fs.rmSync(out, { recursive: true, force: true });
    }
}

test("a plain chain of two disks restores byte-exact at every point", async () => {
    const vm = await TestVm.create({
        disks: [
            { size: "128M", writes: [{ offset: 0, length: "8M", pattern: 0xaa }, { offset: "100M", length: "4M", text: "hello restore " }] },
            { size: "64M", writes: [{ offset: "1M", length: "2M", pattern: 0x11 }] },
        ],
    });
    const backup = path.join(tmp, "plain");
    const points = await buildChain(vm, backup, realBackup(false));
    await checkEveryPoint(vm, backup, points, "plain");
    await vm.cleanup();
});

test("an lz4-compressed chain restores byte-exact at every point, and -D defines a VM that starts", async () => {
    const vm = await TestVm.create({
        disks: [
            { size: "128M", writes: [{ offset: "4M", length: "36M", random: true, seed: 1 }] },
            { size: "64M", writes: [{ offset: 0, length: "1M", pattern: 0x22 }] },
        ],
    });
    const backup = path.join(tmp, "lz4");
    const points = await buildChain(vm, backup, realBackup(true));
    const meta = JSON.parse((await ourRestoreOk(["-i", backup, "-a", "dump", "-d", "vda", "--json"])).stdout) as
        { files: { file: string; meta: { compressed: unknown } }[] };
    assert.ok(meta.files.length === 5 && meta.files.every(f => f.meta.compressed === 2), "every file is lz4-compressed");
    await checkEveryPoint(vm, backup, points, "lz4");

    // -D: adjusted config, defined under a new name, boots.
    const out = path.join(tmp, "lz4-define");
    const name = `vnbt-${process.pid}-restored`;
    const r = await ourRestore(["-i", backup, "-o", out, "-n", "-D", "-N", name, "--json"]);
    try {
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout.trim().split("\n").map(l => JSON.parse(l) as { event: string; [k: string]: unknown });
        const result = lines.at(-1)!;
        assert.equal(result.event, "result");
        assert.equal(result.defined, name);
        assert.ok(lines.some(l => l.event === "progress" && l.disk === "vda" && l.done === l.total), "progress reaches the end");
        const xml = (await runOk("virsh", ["-c", LIBVIRT_URI, "dumpxml", name])).stdout;
        for (const disk of vm.disks)
            assert.ok(xml.includes(path.join(out, path.basename(disk.path))), `disk ${disk.dev} points at the restored image`);
        assert.ok(!xml.includes(vm.dir), "no path of the original VM");
        const uuid = (await runOk("virsh", ["-c", LIBVIRT_URI, "domuuid", name])).stdout.trim();
        const originalUuid = (await runOk("virsh", ["-c", LIBVIRT_URI, "domuuid", vm.name])).stdout.trim();
        assert.notEqual(uuid, originalUuid);
        await runOk("virsh", ["-c", LIBVIRT_URI, "start", name]);
        assert.equal((await runOk("virsh", ["-c", LIBVIRT_URI, "domstate", name])).stdout.trim(), "running");
        for (const [i, disk] of vm.disks.entries()) {
            const cmp = await compareImages(path.join(out, path.basename(disk.path)), points.at(-1)!.expected[i]!);
            assert.ok(cmp.identical, cmp.output);
        }
    } finally {
        await run("virsh", ["-c", LIBVIRT_URI, "destroy", name]);
        await run("virsh", ["-c", LIBVIRT_URI, "undefine", name]);
    }
    await vm.cleanup();
});

for (const compress of [false, true]) {
    test(`a chain made by our backup engine${compress ? " with lz4" : ""} restores byte-exact at every point`, async () => {
        const vm = await TestVm.create({
            disks: [
                { size: "96M", writes: [{ offset: "2M", length: "6M", pattern: 0x5a }] },
                { size: "64M", writes: [{ offset: "60M", length: "4M", text: "ours " }] },
            ],
        });
        const label = compress ? "ours-lz4" : "ours";
        const backup = path.join(tmp, label);
        const points = await buildChain(vm, backup, ourEngine(compress));
        // Our engine writes checksums: every file verifies.
        const verify = await ourRestore(["-i", backup, "-a", "verify", "--json"]);
        assert.equal(verify.code, 0, verify.stderr);
        const files = (JSON.parse(verify.stdout.trim().split("\n").at(-1)!) as { files: { checksum: string }[] }).files;
        assert.ok(files.length === 10 && files.every(f => f.checksum === "ok"), verify.stdout);
        await checkEveryPoint(vm, backup, points, label);
        await vm.cleanup();
    });
}

test("after a fallback full inside our engine's chain every point restores byte-exact, also applied over older content", async () => {
    const vm = await TestVm.create({ disks: [{ size: "64M", writes: [{ offset: 0, length: "16M", pattern: 0x31 }] }] });
    const backup = path.join(tmp, "fallback");
    const run1 = ourEngine(false);
    const snap = (label: string) => vm.snapshotExpected(0, `fallback-${label}`);
    await run1(vm, "full", backup);
    const p0 = await snap("p0");
    await vm.write(0, { offset: "20M", length: "4M", pattern: 0x32 });
    await run1(vm, "inc", backup);
    const p1 = await snap("p1");
    // Zero ranges that held data in both earlier files: only zero requests can clear them when the
    // fallback full is applied over the older content.
    await vm.write(0, { offset: "4M", length: "4M", zero: true });
    await vm.write(0, { offset: "21M", length: "1M", zero: true });
    await vm.write(0, { offset: "40M", length: "1M", pattern: 0x33 });
    // Lose the bitmaps: the next "inc" becomes a full that continues the chain (virtnbdbackup.2).
    const nodes = await vm.qmp({ execute: "query-named-block-nodes", arguments: { flat: true } }) as { "node-name": string; "dirty-bitmaps"?: { name: string }[] }[];
    for (const n of nodes)
        for (const b of n["dirty-bitmaps"] ?? [])
            await vm.qmp({ execute: "block-dirty-bitmap-remove", arguments: { node: n["node-name"], name: b.name } });
    await run1(vm, "inc", backup);
    assert.ok(fs.existsSync(path.join(backup, "vda.full.virtnbdbackup.2.data")), fs.readdirSync(backup).join(", "));
    const p2 = await snap("p2");
    await vm.write(0, { offset: "50M", length: "1M", pattern: 0x34 });
    await run1(vm, "inc", backup);
    const p3 = await snap("p3");

    const points: [string[], string][] = [
        [["-u", "virtnbdbackup.0"], p0], [["-u", "virtnbdbackup.1"], p1], [["-u", "virtnbdbackup.2"], p2], [[], p3],
        [["-s", "vda.full.data,vda.inc.virtnbdbackup.1.data,vda.full.virtnbdbackup.2.data,vda.inc.virtnbdbackup.3.data"], p3],
    ];
    for (const [n, [args, expected]] of points.entries()) {
        const out = path.join(tmp, `fallback-out-${n}`);
        const r = await ourRestore(["-i", backup, "-o", out, "-n", ...args]);
        assert.equal(r.code, 0, r.stderr);
        // A --sequence restore names the image after the disk, as the Python tool does (checked below).
        const image = args[0] === "-s" ? "vda" : "vda.qcow2";
        assert.deepEqual(fs.readdirSync(out).filter(n => n.startsWith("vda")), [image]);
        const cmp = await compareImages(path.join(out, image), expected);
        assert.ok(cmp.identical, `${args.join(" ") || "newest"}: ${cmp.output}`);
    }
    const pyOut = path.join(tmp, "fallback-out-python-sequence");
    await pyRestore(["-i", backup, "-o", pyOut, "-s", "vda.full.data,vda.inc.virtnbdbackup.1.data"]);
    assert.deepEqual(fs.readdirSync(pyOut).filter(n => n.startsWith("vda")), ["vda"], "the Python tool's name for a sequence restore");
    assert.ok((await compareImages(path.join(pyOut, "vda"), p1)).identical);
    await vm.cleanup();
});
