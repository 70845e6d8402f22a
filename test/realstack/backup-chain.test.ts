// SPDX-License-Identifier: GPL-3.0-or-later
// Our backups of a running two-disk VM restore exactly with the REAL virtnbdrestore, at every point.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { jobLeftovers } from "../lib/job-dirs.ts";
import { compareImages, type TestVm } from "../lib/vm.ts";
import { testBed } from "../lib/test-bed.ts";
import { events, listFolder, ourBackup, ourBackupOk, pyRestore } from "../lib/backup-cli.ts";
import { runOk } from "../lib/exec.ts";

const bed = testBed({ name: "chain" });
let vm: TestVm;
let work: string;

bed.before(async () => {
    work = bed.work;
    vm = await bed.vm({
        disks: [
            { size: "160M", writes: [
                { offset: "0", length: "8M", random: true, seed: 7 },
                { offset: "20M", length: "6M", text: "Lorem ipsum dolor sit amet, backup me. " },
                { offset: "100M", length: "3M", pattern: 0x5a },
            ] },
            { size: "64M", writes: [{ offset: "1M", length: "2M", pattern: 0x11 }] },
        ],
    });
});

/** Restores with the real virtnbdrestore and compares both disks with the expected images of a point. */
async function assertRestores(backupDir: string, expected: string[], extra: string[], label: string) {
    const out = path.join(work, `restore-${label}`);
    await pyRestore(["-i", backupDir, "-o", out, ...extra]);
    for (let i = 0; i < vm.disks.length; i++) {
        const restored = path.join(out, path.basename(vm.disks[i].path));
        const result = await compareImages(restored, expected[i]);
        assert.ok(result.identical, `${label}, ${vm.disks[i].dev}: ${result.output}`);
    }
}

test("full, inc, diff, inc of a running VM: every point restores exactly with the real virtnbdrestore", async () => {
    const dir = path.join(work, "chain");
    const full = await ourBackupOk(["-d", vm.name, "-l", "full", "-o", dir, "--json"]);
    const result = events(full.stdout).find(e => e.event === "result");
    assert.equal(result?.level, "full");
    assert.equal(result?.checkpoint, "virtnbdbackup.0");
    const atFull = [await vm.snapshotExpected(0, "full"), await vm.snapshotExpected(1, "full")];
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, `${vm.name}.cpt`), "utf8")), ["virtnbdbackup.0"]);
    const uuid = (await runOk("virsh", ["-c", "qemu:///system", "domuuid", "--domain", vm.name])).stdout.trim();
    assert.deepEqual(jobLeftovers(uuid), [], "the job's socket and scratch directories are removed");

    // Live guest writes, including zeroed ranges over data the full saved.
    await vm.write(0, { offset: "2M", length: "1M", pattern: 0xc1 });
    await vm.write(0, { offset: "20M", length: "2M", zero: true });
    await vm.write(0, { offset: "150M", length: "4M", pattern: 0x77 });
    await vm.write(1, { offset: "1M", length: "512K", zero: true });
    await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", dir]);
    const atInc1 = [await vm.snapshotExpected(0, "inc1"), await vm.snapshotExpected(1, "inc1")];

    await vm.write(0, { offset: "100M", length: "1M", pattern: 0xd2 });
    await vm.write(1, { offset: "40M", length: "1M", pattern: 0x33 });
    await ourBackupOk(["-d", vm.name, "-l", "diff", "-o", dir]);
    const atDiff = [await vm.snapshotExpected(0, "diff"), await vm.snapshotExpected(1, "diff")];
    const diffFiles = listFolder(dir).filter(n => /^vd[ab]\.diff\.\d+\.data$/.test(n));
    assert.equal(diffFiles.length, 2, listFolder(dir).join(" "));

    await vm.write(0, { offset: "5M", length: "64K", zero: true });
    await vm.write(0, { offset: "130M", length: "2M", pattern: 0xe4 });
    await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", dir]);
    const atInc2 = [await vm.snapshotExpected(0, "inc2"), await vm.snapshotExpected(1, "inc2")];

    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, `${vm.name}.cpt`), "utf8")),
        ["virtnbdbackup.0", "virtnbdbackup.1", "virtnbdbackup.2"]);
    for (const dev of ["vda", "vdb"]) {
        for (const f of [`${dev}.full.data`, `${dev}.inc.virtnbdbackup.1.data`, `${dev}.inc.virtnbdbackup.2.data`])
            assert.ok(fs.existsSync(path.join(dir, f)) && fs.existsSync(path.join(dir, `${f}.chksum`)), f);
    }
    assert.ok(fs.existsSync(path.join(dir, "checkpoints/virtnbdbackup.2.xml")));
    assert.ok(!listFolder(dir).some(n => n.endsWith(".partial")));

    await assertRestores(dir, atFull, ["-u", "virtnbdbackup.0"], "full");
    await assertRestores(dir, atInc1, ["-u", "virtnbdbackup.1"], "inc1");
    // The diff carries checkpoint name .2 and comes before the second inc: --until stops after it.
    await assertRestores(dir, atDiff, ["-u", "virtnbdbackup.2"], "diff");
    await assertRestores(dir, atInc2, [], "inc2");
    // And a point's expectation is not any other's: the comparison can fail.
    const wrong = await compareImages(atInc2[0], atFull[0]);
    assert.equal(wrong.identical, false);
});

test("lz4-compressed full and inc restore exactly with the real virtnbdrestore", async () => {
    const dir = path.join(work, "lz4");
    await ourBackupOk(["-d", vm.name, "-l", "full", "-z", "-o", dir]);
    const atFull = [await vm.snapshotExpected(0, "zfull"), await vm.snapshotExpected(1, "zfull")];
    await vm.write(0, { offset: "60M", length: "40M", random: true, seed: 3 }); // > 32 MiB: several lz4 frames
    await vm.write(1, { offset: "10M", length: "1M", pattern: 0x44 });
    await ourBackupOk(["-d", vm.name, "-l", "inc", "-z", "-o", dir]);
    const atInc = [await vm.snapshotExpected(0, "zinc"), await vm.snapshotExpected(1, "zinc")];
    const full = fs.statSync(path.join(dir, "vda.full.data")).size;
    assert.ok(full < 24 << 20, `compressed full is ${full} bytes`);
    const head = fs.readFileSync(path.join(dir, "vda.inc.virtnbdbackup.1.data")).subarray(0, 400).toString("latin1");
    assert.match(head, /"compressed": 2/);
    await assertRestores(dir, atFull, ["-u", "virtnbdbackup.0"], "zfull");
    await assertRestores(dir, atInc, [], "zinc");
});

test("-q takes extents from nbdinfo and gives the same backup; -t raw writes a sparse image", async () => {
    const qdir = path.join(work, "qemu-extents");
    await ourBackupOk(["-d", vm.name, "-l", "copy", "-q", "-o", qdir]);
    const pdir = path.join(work, "plain-extents");
    await ourBackupOk(["-d", vm.name, "-l", "copy", "-o", pdir]);
    for (const dev of ["vda", "vdb"]) {
        const q = fs.readFileSync(path.join(qdir, `${dev}.copy.data`));
        const p = fs.readFileSync(path.join(pdir, `${dev}.copy.data`));
        // Same frames and data; only the meta date may differ.
        assert.deepEqual(q.subarray(q.indexOf("\r\ndata ") ), p.subarray(p.indexOf("\r\ndata ")), dev);
    }

    const rdir = path.join(work, "raw");
    await ourBackupOk(["-d", vm.name, "-l", "copy", "-t", "raw", "-o", rdir]);
    for (let i = 0; i < 2; i++) {
        const image = path.join(rdir, `${vm.disks[i].dev}.copy.data`);
        const st = fs.statSync(image);
        assert.equal(st.size, vm.disks[i].size);
        assert.ok(st.blocks * 512 < st.size, "raw image is sparse");
        const result = await compareImages(image, vm.expectedPath(i), { format: "raw" });
        assert.ok(result.identical, result.output);
    }
    await runOk("qemu-img", ["info", "-f", "raw", path.join(rdir, "vda.copy.data")]);
});

test("exclude and include pick disks; unknown disks are refused", async () => {
    const dir = path.join(work, "only-vdb");
    await ourBackupOk(["-d", vm.name, "-l", "copy", "-x", "vda", "-o", dir]);
    assert.deepEqual(listFolder(dir).filter(n => n.endsWith(".data")), ["vdb.copy.data"]);
    const dir2 = path.join(work, "only-vda");
    await ourBackupOk(["-d", vm.name, "-l", "copy", "-i", "vda", "-o", dir2]);
    assert.deepEqual(listFolder(dir2).filter(n => n.endsWith(".data")), ["vda.copy.data"]);
    const bad = await ourBackup(["-d", vm.name, "-l", "copy", "-i", "vdz", "-o", path.join(work, "vdz")]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /has no disk vdz/);
});
