// SPDX-License-Identifier: GPL-3.0-or-later
// The restore's qcow2 images (image/qcow2-layout.ts through engine/image-sink.ts), judged by qemu itself:
// for every image option qemu-img create takes (compat, cluster size, refcount width, lazy refcounts,
// extended L2, compression type), an image written from scattered data must pass `qemu-img check` (no
// error, no leak), read back exactly like the raw disk (`qemu-img compare`), hold only the clusters with
// data, and report the options it was made with (`qemu-img info`).
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { copyExtents } from "../../../helper/engine/copy.ts";
import type { Extent } from "../../../helper/engine/endpoint.ts";
import { ImageSink, rawPlacement } from "../../../helper/engine/image-sink.ts";
import { Qcow2Layout } from "../../../helper/image/qcow2-layout.ts";
import { qcow2Params, type Qcow2Params } from "../../../helper/image/qcow2-params.ts";
import { run, runOk } from "../../lib/exec.ts";
import { memorySource } from "../../lib/memory-source.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** A disk with data in `ranges` (random bytes) and zeroes elsewhere, and its extents. */
function disk(size: number, ranges: [number, number][]): { data: Buffer; extents: Extent[] } {
    const data = Buffer.alloc(size);
    const extents: Extent[] = [];
    let at = 0;
    for (const [offset, length] of ranges) {
        if (offset > at)
            extents.push({ offset: at, length: offset - at, data: false });
        crypto.randomFillSync(data, offset, length);
        extents.push({ offset, length, data: true });
        at = offset + length;
    }
    if (at < size)
        extents.push({ offset: at, length: size - at, data: false });
    return { data, extents };
}

/** Scattered ranges of many sizes: inside one cluster, across cluster and L2-table boundaries, touching. */
function scattered(size: number, seed: number): [number, number][] {
    const out: [number, number][] = [];
    let x = seed;
    const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
    let at = 0;
    while (at < size) {
        const gap = [0, 512, 3 * KiB, 70 * KiB, 900 * KiB, 5 * MiB][next() % 6];
        const length = [512, 4 * KiB, 61 * KiB, 200 * KiB, 1 * MiB + 512, 3 * MiB][next() % 6];
        const offset = at + gap;
        if (offset + length > size)
            break;
        // Sector-aligned, as disks are.
        out.push([offset, length]);
        at = offset + length;
    }
    return out;
}

async function writeImage(dir: string, name: string, size: number, extents: Extent[], data: Buffer, params?: Qcow2Params): Promise<string> {
    const file = path.join(dir, name);
    const placement = params ? new Qcow2Layout(params, size, extents) : rawPlacement(size);
    const sink = await ImageSink.create(file, size, placement);
    await copyExtents(extents, memorySource(data), sink, { maxChunk: 256 * KiB, maxInFlight: 8 });
    await sink.publish();
    return file;
}

const cases: { name: string; info: unknown }[] = [
    { name: "defaults (no saved info)", info: null },
    { name: "compat 0.10, 64 KiB", info: { "cluster-size": 65536, "format-specific": { data: { compat: "0.10" } } } },
    { name: "512-byte clusters, 1-bit refcounts", info: { "cluster-size": 512, "format-specific": { data: { compat: "1.1", "refcount-bits": 1 } } } },
    { name: "4 KiB clusters, 2-bit refcounts", info: { "cluster-size": 4096, "format-specific": { data: { compat: "1.1", "refcount-bits": 2 } } } },
    { name: "2 MiB clusters, 64-bit refcounts, lazy", info: { "cluster-size": 2 * MiB, "format-specific": { data: { compat: "1.1", "refcount-bits": 64, "lazy-refcounts": true } } } },
    { name: "32 KiB clusters, extended L2, zstd, 8-bit refcounts", info: { "cluster-size": 32 * KiB, "format-specific": { data: { compat: "1.1", "extended-l2": true, "compression-type": "zstd", "refcount-bits": 8 } } } },
    { name: "16 KiB clusters, extended L2, 32-bit refcounts", info: { "cluster-size": 16 * KiB, "format-specific": { data: { compat: "1.1", "extended-l2": true, "refcount-bits": 32 } } } },
];

for (const c of cases) {
    test(`qcow2 image, ${c.name}: qemu-img check clean, reads back exactly, options as saved`, async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-qcow2-"));
        try {
            const params = qcow2Params(c.info);
            // Small clusters: a small disk keeps the test quick, still many L2 tables and refcount blocks.
            const size = params.clusterBits <= 12 ? 24 * MiB + 512 : 200 * MiB + 4 * KiB;
            const { data, extents } = disk(size, scattered(size, params.clusterBits * 7 + params.refcountOrder));
            const image = await writeImage(dir, "disk.qcow2", size, extents, data, params);
            const raw = path.join(dir, "disk.raw");
            fs.writeFileSync(raw, data);

            const check = await run("qemu-img", ["check", "-f", "qcow2", "--output=json", image]);
            assert.equal(check.code, 0, `qemu-img check: ${check.stdout}${check.stderr}`);
            const report = JSON.parse(check.stdout) as Record<string, unknown>;
            assert.equal(report["check-errors"], 0);
            assert.equal(report.leaks ?? 0, 0, "no leaked cluster");
            assert.equal(report.corruptions ?? 0, 0, "no corruption");
            await runOk("qemu-img", ["compare", "-q", "-f", "qcow2", "-F", "raw", image, raw]);

            const info = JSON.parse(await runOk("qemu-img", ["info", "--output=json", "-f", "qcow2", image]).then(r => r.stdout)) as {
                "virtual-size": number; "cluster-size": number; "format-specific": { data: Record<string, unknown> };
            };
            assert.equal(info["virtual-size"], size);
            assert.equal(info["cluster-size"], 2 ** params.clusterBits);
            const spec = info["format-specific"].data;
            assert.equal(spec.compat, params.version === 2 ? "0.10" : "1.1");
            if (params.version === 3) {
                assert.equal(spec["refcount-bits"], 2 ** params.refcountOrder);
                assert.equal(spec["lazy-refcounts"], params.lazyRefcounts);
                assert.equal(spec["extended-l2"] ?? false, params.extendedL2);
                assert.equal(spec["compression-type"], params.compressionType === 1 ? "zstd" : "zlib");
            }

            // Thin: the image holds the data's clusters and its metadata, no more.
            const cs = 2 ** params.clusterBits;
            const clusters = new Set<number>();
            for (const e of extents.filter(x => x.data))
                for (let cl = Math.floor(e.offset / cs); cl * cs < e.offset + e.length; cl++)
                    clusters.add(cl);
            const map = JSON.parse((await runOk("qemu-img", ["map", "--output=json", "-f", "qcow2", image])).stdout) as { start: number; length: number; data: boolean }[];
            const mapped = map.filter(m => m.data).reduce((n, m) => n + m.length, 0);
            const expected = [...clusters].reduce((n, cl) => n + Math.min(cs, size - cl * cs), 0);
            assert.equal(mapped, expected, "exactly the clusters with data are allocated");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
}

test("a raw image gets the data at its offsets, holes elsewhere", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-raw-"));
    try {
        const size = 40 * MiB;
        const { data, extents } = disk(size, scattered(size, 3));
        const image = await writeImage(dir, "disk.img", size, extents, data);
        assert.ok(fs.readFileSync(image).equals(data));
        assert.ok(fs.statSync(image).blocks * 512 < size, "sparse");
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("a blank disk makes a valid empty image; data outside the plan is refused", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-qcow2-"));
    try {
        const size = 10 * MiB;
        const extents: Extent[] = [{ offset: 0, length: size, data: false }];
        const image = await writeImage(dir, "blank.qcow2", size, extents, Buffer.alloc(size), qcow2Params(null));
        assert.equal((await run("qemu-img", ["check", "-q", "-f", "qcow2", image])).code, 0);
        const layout = new Qcow2Layout(qcow2Params(null), size, [{ offset: 65536, length: 4096, data: true }]);
        assert.throws(() => layout.hostOffset(0, 512), /not in the image's planned data/);
        assert.throws(() => layout.hostOffset(65536, 65537), /not in the image's planned data/);
        assert.equal(layout.hostOffset(65536 + 100, 10) % 65536, 100);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("saved options qemu would refuse are refused by name", () => {
    assert.throws(() => qcow2Params({ "cluster-size": 3000 }), /cluster size 3000/);
    assert.throws(() => qcow2Params({ "cluster-size": 4 * MiB }), /cluster size/);
    assert.throws(() => qcow2Params({ "format-specific": { data: { compat: "9.9" } } }), /compat level "9.9"/);
    assert.throws(() => qcow2Params({ "format-specific": { data: { compat: "1.1; rm -rf /" } } }), /compat level/);
    assert.throws(() => qcow2Params({ "format-specific": { data: { "refcount-bits": 128 } } }), /refcount width 128/);
    assert.throws(() => qcow2Params({ "format-specific": { data: { compat: "0.10", "lazy-refcounts": true } } }), /compat 0.10/);
    assert.throws(() => qcow2Params({ "cluster-size": 8192, "format-specific": { data: { "extended-l2": true } } }), /16 KiB/);
    assert.throws(() => qcow2Params({ "format-specific": { data: { "compression-type": "lzo" } } }), /compression type "lzo"/);
    assert.deepEqual(qcow2Params({ "cluster-size": 131072, "format-specific": { data: { compat: "1.1", "lazy-refcounts": true, "refcount-bits": 16, "compression-type": "zlib" } } }),
        { version: 3, clusterBits: 17, refcountOrder: 4, lazyRefcounts: true, extendedL2: false, compressionType: 0 });
});
