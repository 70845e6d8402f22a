// SPDX-License-Identifier: GPL-3.0-or-later
// Proves the test bed itself: a real TCG VM whose disks receive live writes through QEMU, checked against
// the expected images with qemu-img compare — and a wrong expectation is caught.
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, test } from "node:test";
import { run, runOk } from "../lib/exec.ts";
import { ensureLibvirtd, LIBVIRT_URI } from "../lib/libvirtd.ts";
import { compareImages, TestVm } from "../lib/vm.ts";

const MiB = 1024 * 1024;
let stopLibvirtd: () => Promise<void> = async () => {};
let vm: TestVm;

before(async () => {
    stopLibvirtd = await ensureLibvirtd();
    vm = await TestVm.create({
        disks: [
            { size: "64M", writes: [{ offset: 0, length: "4M", pattern: 0xaa }, { offset: "10M", length: "2M", random: true, seed: 1 }] },
            { size: "32M", writes: [{ offset: "1M", length: "6M", pattern: 0x5c }, { offset: "16M", length: "1M", text: "lorem ipsum\n" }] },
        ],
    });
});

after(async () => {
    await TestVm.cleanupAll();
    await stopLibvirtd();
});

/** Dirty bytes that QEMU's dirty bitmap `bitmap` on disk i has recorded (QMP query-block). */
async function dirtyBytes(i: number, bitmap: string): Promise<number> {
    const qdev = await vm.qdevPath(i);
    type Block = { qdev?: string; inserted?: { "dirty-bitmaps"?: { name: string; count: number }[] } };
    const blocks = await vm.qmp({ execute: "query-block" }) as Block[];
    const found = blocks.find(b => b.qdev === qdev)?.inserted?.["dirty-bitmaps"]?.find(b => b.name === bitmap);
    assert.ok(found, `query-block shows bitmap ${bitmap} on ${qdev}`);
    return found.count;
}

test("the VM runs as a TCG domain with virtio disks vda and vdb", async () => {
    assert.equal(await vm.state(), "running");
    const xml = (await runOk("virsh", ["-c", LIBVIRT_URI, "dumpxml", vm.name])).stdout;
    assert.match(xml, /<domain type='qemu'/);
    assert.deepEqual(vm.disks.map(d => [d.dev, d.format, d.size]), [["vda", "qcow2", 64 * MiB], ["vdb", "qcow2", 32 * MiB]]);
    assert.equal(await vm.qdevPath(1), "/machine/peripheral/virtio-disk1/virtio-backend");
});

test("initial (offline) writes are on the disks and in the expected images", async () => {
    for (const i of [0, 1]) {
        const r = await vm.compare(i, vm.disks[i]!.path);
        assert.equal(r.identical, true, r.output);
    }
    // The expected image holds the data itself, not just zeroes on both sides.
    const fd = fs.openSync(vm.expectedPath(1), "r");
    const buf = Buffer.alloc(4);
    fs.readSync(fd, buf, 0, 4, 1 * MiB);
    fs.closeSync(fd);
    assert.deepEqual([...buf], [0x5c, 0x5c, 0x5c, 0x5c]);
});

test("live writes go through the guest device and match the expected image", async () => {
    // A libvirt checkpoint gives vdb a dirty bitmap: what the backup tests rely on to see these writes.
    await runOk("virsh", ["-c", LIBVIRT_URI, "checkpoint-create-as", vm.name, "vnbt-live",
                          "--diskspec", "vda,checkpoint=no", "--diskspec", "vdb,checkpoint=bitmap"]);
    assert.equal(await dirtyBytes(1, "vnbt-live"), 0);
    await vm.write(1, { offset: "2M", length: "3M", pattern: 0xcc });   // overwrites part of the 0x5c range
    await vm.write(1, { offset: "3M", length: "512K", zero: true });     // a hole inside it
    await vm.write(1, { offset: "20M", length: "1M", random: true });
    assert.equal(await dirtyBytes(1, "vnbt-live"), 4 * MiB, "the bitmap saw 3 MiB + 1 MiB of writes");
    const r = await vm.compare(1, vm.disks[1]!.path);   // the running qcow2 itself (qemu-img compare -U)
    assert.equal(r.identical, true, r.output);
    assert.equal(r.output, "Images are identical.");
});

test("a wrong expectation comes out as different", async () => {
    const wrong = await vm.snapshotExpected(1, "wrong");
    const fd = fs.openSync(wrong, "r+");
    fs.writeSync(fd, Buffer.from([0x01]), 0, 1, 3 * MiB + 100);  // inside the zeroed range
    fs.closeSync(fd);
    const r = await compareImages(vm.disks[1]!.path, wrong);
    assert.equal(r.identical, false);
    assert.match(r.output, /Content mismatch at offset 3145728/);
    // The snapshot of the real expectation still matches.
    const right = await vm.snapshotExpected(1, "right");
    assert.equal((await compareImages(vm.disks[1]!.path, right)).identical, true);
});

test("offline writes after shutdown, then the VM starts again", async () => {
    await vm.shutdown();
    assert.equal(await vm.state(), "shut off");
    await vm.write(0, { offset: "30M", length: "1M", pattern: 0x11 });
    assert.equal((await vm.compare(0, vm.disks[0]!.path)).identical, true);
    await vm.start();
    assert.equal(await vm.state(), "running");
    await vm.write(0, { offset: "31M", length: "64K", pattern: 0x22 });
    assert.equal((await vm.compare(0, vm.disks[0]!.path)).identical, true);
});

test("cleanup removes a VM that has checkpoints, and its files", async () => {
    await runOk("virsh", ["-c", LIBVIRT_URI, "checkpoint-create-as", vm.name, "vnbt-cp1", "--diskspec", "vda,checkpoint=bitmap"]);
    await runOk("virsh", ["-c", LIBVIRT_URI, "checkpoint-create-as", vm.name, "vnbt-cp2", "--diskspec", "vda,checkpoint=bitmap"]);
    const { name, dir } = vm;
    await vm.cleanup();
    assert.notEqual((await run("virsh", ["-c", LIBVIRT_URI, "domuuid", name])).code, 0, "domain is gone");
    assert.equal(fs.existsSync(dir), false, "its directory is gone");
    await vm.cleanup();  // idempotent
});

test("removeStale removes VMs of test processes that are gone, and only those", async () => {
    const gone = await runOk(process.execPath, ["-e", "console.log(process.pid)"]);
    const deadPid = Number(gone.stdout.trim());
    const stale = await TestVm.create({ name: `vnbt-${deadPid}-1`, disks: [{ size: "1M" }] });
    const mine = await TestVm.create({ start: false, disks: [{ size: "1M" }] });
    const removed = await TestVm.removeStale();
    assert.ok(removed.includes(stale.name), `removed ${removed.join(", ")}`);
    assert.ok(!removed.includes(mine.name));
    assert.notEqual((await run("virsh", ["-c", LIBVIRT_URI, "domuuid", stale.name])).code, 0);
    assert.equal(fs.existsSync(stale.dir), false);
    assert.equal((await run("virsh", ["-c", LIBVIRT_URI, "domuuid", mine.name])).code, 0);
    await stale.cleanup();  // nothing left to do, and no error
    await mine.cleanup();
});

test("ensureLibvirtd on a running libvirtd gives a stopper that leaves it running", async () => {
    const stop = await ensureLibvirtd();
    await stop();
    assert.equal((await run("virsh", ["-c", LIBVIRT_URI, "uri"])).code, 0);
});
