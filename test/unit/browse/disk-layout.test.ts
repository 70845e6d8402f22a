// SPDX-License-Identifier: GPL-3.0-or-later
// What a guest disk holds, from sfdisk's and blkid's answers, and how each file system is mounted.
import { it } from "node:test";
import assert from "node:assert/strict";
import { kernelType, mountOptions, parseBlkid, volumesOf } from "../../../helper/browse/disk-layout.ts";

const MiB = 1024 * 1024;

function table(partitions: object[], sectorsize = 512): string {
    return JSON.stringify({ partitiontable: { label: "dos", sectorsize, partitions } });
}

it("a disk without a partition table is one volume, the whole disk", () => {
    assert.deepEqual(volumesOf(null, 320 * MiB), [{ id: "disk", offset: 0, size: 320 * MiB }]);
});

it("partitions become volumes at their byte offsets, named by their number", () => {
    const json = table([
        { node: "/x/disk1", start: 2048, size: 4096, type: "83" },
        { node: "/x/disk2", start: 6144, size: 2048, type: "82" },
    ]);
    assert.deepEqual(volumesOf(json, 8 * MiB), [
        { id: "p1", offset: MiB, size: 2 * MiB },
        { id: "p2", offset: 3 * MiB, size: MiB },
    ]);
});

it("an extended partition (only the logical ones' table) and ranges beyond the disk are left out", () => {
    const json = table([
        { node: "d1", start: 2048, size: 2048, type: "83" },
        { node: "d2", start: 4096, size: 8192, type: "5" },
        { node: "d5", start: 6144, size: 2048, type: "83" },
        { node: "d3", start: 1_000_000, size: 2048, type: "83" },
    ]);
    assert.deepEqual(volumesOf(json, 8 * MiB).map(v => v.id), ["p1", "p5"]);
});

it("GPT tables with 4096-byte sectors are counted in their sector size", () => {
    const json = table([{ node: "nvme0n1p1", start: 256, size: 512, type: "0FC63DAF-8483-4772-8E79-3D69D8477DE4" }], 4096);
    assert.deepEqual(volumesOf(json, 16 * MiB), [{ id: "p1", offset: MiB, size: 2 * MiB }]);
});

it("blkid's export lines become fields", () => {
    const f = parseBlkid("DEVNAME=/dev/loop0\nLABEL=vnbt data\nTYPE=xfs\nUSAGE=filesystem\n");
    assert.equal(f.get("TYPE"), "xfs");
    assert.equal(f.get("LABEL"), "vnbt data");
});

it("every mount is read-only, nosuid, nodev, noexec; journals are never replayed; xfs mounts twice", () => {
    for (const type of ["ext2", "ext3", "ext4", "xfs", "vfat", "btrfs", "ntfs3"]) {
        const opts = mountOptions(type)!.split(",");
        for (const o of ["ro", "nosuid", "nodev", "noexec"])
            assert.ok(opts.includes(o), `${type}: ${o}`);
    }
    assert.ok(mountOptions("ext4")!.split(",").includes("noload"));
    assert.ok(mountOptions("xfs")!.split(",").includes("norecovery"));
    assert.ok(mountOptions("xfs")!.split(",").includes("nouuid"));
    assert.equal(mountOptions("swap"), null);
    assert.equal(mountOptions("LVM2_member"), null);
    assert.equal(kernelType("ntfs"), "ntfs3");
});
