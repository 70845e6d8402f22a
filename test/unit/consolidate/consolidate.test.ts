// SPDX-License-Identifier: GPL-3.0-or-later
// Consolidation on real stream files (written with our StreamSink, plain and lz4, two disks): every point that
// stays reads back byte for byte as before, the merged-away files and their own files are gone, the checkpoint
// list and definitions stay, and a switch stopped half way (as by SIGKILL) leaves a folder whose points all
// read back, finished by the next recovery.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { copyExtents } from "../../../helper/engine/copy.ts";
import type { Chunk, Extent, Source } from "../../../helper/engine/endpoint.ts";
import { splitFixed } from "../../../helper/engine/extents.ts";
import { StreamSink } from "../../../helper/engine/stream-sink.ts";
import { StreamSource } from "../../../helper/engine/stream-source.ts";
import { consolidateChain } from "../../../helper/consolidate/consolidate.ts";
import { CONSOLIDATE_JOURNAL, recoverConsolidation, STAGING_DIR } from "../../../helper/consolidate/journal.ts";
import { readBackupFolder } from "../../../helper/restore/folder.ts";
import { selectChain } from "../../../helper/restore/chain.ts";
import { checkChecksum } from "../../../helper/restore/checksum.ts";
import { chainFullFileName, dataFileName, type StreamMeta } from "../../../helper/format/index.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZE = 6 * MiB;
const DEVS = ["vda", "vdb"];

class MemorySource implements Source {
    constructor(private readonly disk: Buffer) {}
    get size() { return this.disk.length; }
    split(extent: Extent, maxChunk: number): Chunk[] { return splitFixed(extent, maxChunk); }
    async read(chunk: Chunk): Promise<Buffer> { return Buffer.from(this.disk.subarray(chunk.offset, chunk.offset + chunk.length)); }
    async close() {}
}

function lcg(seed: number): () => number {
    let s = seed;
    return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

async function writeFile(file: string, disk: Buffer, extents: Extent[], meta: Omit<StreamMeta, "dataSize" | "virtualSize">) {
    const dataSize = extents.filter(e => e.data).reduce((s, e) => s + e.length, 0);
    const sink = await StreamSink.create(file, { ...meta, dataSize, virtualSize: disk.length });
    await copyExtents(extents, new MemorySource(disk), sink, { maxChunk: 256 * KiB, maxInFlight: 8 });
}

/** A chain of a full and `incs` incrementals per disk; returns each point's expected disk contents. */
async function makeChain(dir: string, incs: number, compressed: false | number): Promise<Map<string, Buffer>[]> {
    const rand = lcg(compressed === false ? 3 : 5);
    const disks = new Map(DEVS.map(d => [d, Buffer.alloc(SIZE)]));
    const points: Map<string, Buffer>[] = [];
    const cpt: string[] = [];
    const base = { diskFormat: "qcow2", compressed, compressionMethod: "lz4", streamVersion: 2 as const, domainUuid: "0f7a6f0e-3c3e-4b7e-9a57-5d2bd0c3a001" };
    for (let n = 0; n <= incs; n++) {
        const name = `virtnbdbackup.${n}`;
        cpt.push(name);
        for (const dev of DEVS) {
            const disk = disks.get(dev)!;
            // Random writes, some zeroing, at 4 KiB granularity; the full's map has zero frames for zero blocks.
            const changed: Extent[] = [];
            for (let i = 0; i < 6; i++) {
                const offset = Math.floor(rand() * (SIZE / (4 * KiB) - 64)) * 4 * KiB;
                const length = (1 + Math.floor(rand() * 60)) * 4 * KiB;
                if (rand() < 0.25)
                    disk.fill(0, offset, offset + length);
                else
                    for (let b = offset; b < offset + length; b++) disk[b] = Math.floor(rand() * 256);
                changed.push({ offset, length, data: true });
            }
            changed.sort((a, b) => a.offset - b.offset);
            const merged: Extent[] = [];
            for (const e of changed) {
                const last = merged.at(-1);
                if (last && e.offset <= last.offset + last.length)
                    last.length = Math.max(last.length, e.offset + e.length - last.offset);
                else merged.push({ ...e });
            }
            const date = `2026-12-0${1 + Math.floor(n / 10)}T10:${String(n % 60).padStart(2, "0")}:00`;
            if (n === 0) {
                const extents: Extent[] = [];
                for (let at = 0; at < SIZE; at += 64 * KiB) {
                    const data = disk.subarray(at, at + 64 * KiB).some(b => b !== 0);
                    const last = extents.at(-1);
                    if (last && last.data === data) last.length += 64 * KiB;
                    else extents.push({ offset: at, length: 64 * KiB, data });
                }
                await writeFile(path.join(dir, dataFileName(dev, "full")), disk, extents,
                    { ...base, date, diskName: dev, checkpointName: name, parentCheckpoint: "", incremental: false });
            } else {
                await writeFile(path.join(dir, dataFileName(dev, "inc", name)), disk, merged,
                    { ...base, date, diskName: dev, checkpointName: name, parentCheckpoint: `virtnbdbackup.${n - 1}`, incremental: true });
            }
            fs.writeFileSync(path.join(dir, `${dev}.${name}.qcow.json`), "{}");
        }
        fs.writeFileSync(path.join(dir, `vmconfig.${name}.xml`), "<domain/>");
        fs.writeFileSync(path.join(dir, `OVMF_VARS.fd.${name}`), "nvram");
        fs.mkdirSync(path.join(dir, "checkpoints"), { recursive: true });
        fs.writeFileSync(path.join(dir, "checkpoints", `${name}.xml`), "<domaincheckpoint/>");
        // mtimes in chain order, one second apart (the other tool's restore order)
        for (const dev of DEVS) {
            const f = path.join(dir, n === 0 ? dataFileName(dev, "full") : dataFileName(dev, "inc", name));
            fs.utimesSync(f, 1_800_000_000 + n, 1_800_000_000 + n);
        }
        points.push(new Map([...disks].map(([d, b]) => [d, Buffer.from(b)])));
    }
    fs.writeFileSync(path.join(dir, "vm1.cpt"), JSON.stringify(cpt));
    return points;
}

/** The disk at a point, read from the folder as a restore picks its files (zeroed base, files applied in order). */
async function readPoint(dir: string, dev: string, point: string): Promise<Buffer> {
    const folder = await readBackupFolder(dir);
    const chain = selectChain(dev, folder.files, folder.checkpointLists[0]?.checkpoints ?? null, { until: point });
    const out = Buffer.alloc(SIZE);
    for (const m of chain.members) {
        const file = path.join(dir, m.name);
        assert.notEqual((await checkChecksum(file)).status, "mismatch", file);
        const source = await StreamSource.open(file);
        try {
            for (const e of source.extents) {
                if (!e.data) {
                    out.fill(0, e.offset, e.offset + e.length);
                    continue;
                }
                for (const c of source.split(e, MiB))
                    (await source.read(c, Buffer.allocUnsafe(Math.max(c.length, MiB)))).copy(out, c.offset);
            }
        } finally {
            await source.close();
        }
    }
    return out;
}

async function assertPoints(dir: string, points: Map<string, Buffer>[], from: number, label: string) {
    for (let n = from; n < points.length; n++)
        for (const dev of DEVS)
            assert.ok((await readPoint(dir, dev, `virtnbdbackup.${n}`)).equals(points[n].get(dev)!), `${label}: ${dev} at point ${n}`);
}

for (const compressed of [false, 2] as const) {
    test(`full + 10 incs, ${compressed === false ? "plain" : "lz4"}: merged up to point 4, points 4..10 exact, 0..3 gone`, async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-consolidate-"));
        try {
            const points = await makeChain(dir, 10, compressed);
            fs.writeFileSync(path.join(dir, "notes.txt"), "mine");
            const cptBefore = fs.readFileSync(path.join(dir, "vm1.cpt"), "utf8");
            const answer = await consolidateChain(dir, "virtnbdbackup.4", { dryRun: false });
            assert.deepEqual(answer.dropped, ["virtnbdbackup.0", "virtnbdbackup.1", "virtnbdbackup.2", "virtnbdbackup.3"]);
            assert.deepEqual(answer.written, DEVS.map(d => chainFullFileName(d, "virtnbdbackup.4")));
            await assertPoints(dir, points, 4, "after");
            const names = fs.readdirSync(dir);
            for (const dev of DEVS) {
                assert.ok(!names.includes(`${dev}.full.data`) && !names.includes(`${dev}.inc.virtnbdbackup.4.data`));
                assert.ok(names.includes(`${dev}.full.virtnbdbackup.4.data.chksum`));
                assert.ok(!names.includes(`${dev}.virtnbdbackup.3.qcow.json`) && names.includes(`${dev}.virtnbdbackup.4.qcow.json`));
                const full = await StreamSource.open(path.join(dir, `${dev}.full.virtnbdbackup.4.data`));
                assert.equal(full.meta.checkpointName, "virtnbdbackup.4");
                assert.equal(full.meta.incremental, false);
                assert.equal(full.meta.parentCheckpoint, "");
                assert.equal(full.meta.compressed, compressed);
                assert.equal(full.meta.domainUuid, "0f7a6f0e-3c3e-4b7e-9a57-5d2bd0c3a001");
                assert.ok(full.extents.some(e => !e.data), "zero frames where the disk reads as zeroes");
                await full.close();
                // The other tool's order: after point 4's time, before point 5's.
                const mtime = fs.statSync(path.join(dir, `${dev}.full.virtnbdbackup.4.data`)).mtimeMs / 1000;
                assert.ok(mtime > 1_800_000_004 && mtime < 1_800_000_005, String(mtime));
            }
            assert.ok(!names.includes("vmconfig.virtnbdbackup.0.xml") && !names.includes("OVMF_VARS.fd.virtnbdbackup.3"));
            assert.ok(names.includes("vmconfig.virtnbdbackup.4.xml") && names.includes("OVMF_VARS.fd.virtnbdbackup.4"));
            assert.ok(names.includes("notes.txt"));
            assert.ok(!names.includes(STAGING_DIR) && !names.includes(CONSOLIDATE_JOURNAL));
            assert.equal(fs.readFileSync(path.join(dir, "vm1.cpt"), "utf8"), cptBefore, "the checkpoint list stays");
            assert.equal(fs.readdirSync(path.join(dir, "checkpoints")).length, 11, "the checkpoint definitions stay");
            await assert.rejects(readPoint(dir, "vda", "virtnbdbackup.2"), /no backup of disk vda matches/);
            // Again, further: merges the consolidated full with incs 5..7.
            await consolidateChain(dir, "virtnbdbackup.7", { dryRun: false });
            await assertPoints(dir, points, 7, "second");
            // Refused: the newest point, a point merged away, an unknown one; nothing changes.
            const before = fs.readdirSync(dir).sort();
            await assert.rejects(consolidateChain(dir, "virtnbdbackup.10", { dryRun: false }), /newest/);
            await assert.rejects(consolidateChain(dir, "virtnbdbackup.2", { dryRun: false }), /cannot be restored to virtnbdbackup.2/);
            await assert.rejects(consolidateChain(dir, "../x", { dryRun: false }), /not a checkpoint name/);
            assert.deepEqual(fs.readdirSync(dir).sort(), before);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
}

test("a dry run changes nothing and estimates the space freed", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-consolidate-"));
    try {
        await makeChain(dir, 4, false);
        const before = fs.readdirSync(dir).sort();
        const answer = await consolidateChain(dir, "virtnbdbackup.2", { dryRun: true });
        assert.deepEqual(fs.readdirSync(dir).sort(), before);
        assert.deepEqual(answer.dropped, ["virtnbdbackup.0", "virtnbdbackup.1"]);
        assert.ok(answer.removedBytes > 0 && answer.freed > 0 && answer.freed < answer.removedBytes, JSON.stringify(answer));
        const done = await consolidateChain(dir, "virtnbdbackup.2", { dryRun: false });
        assert.deepEqual(done.removed, answer.removed);
        assert.ok(Math.abs(done.writtenBytes - answer.writtenBytes) < done.writtenBytes * 0.05, `estimate ${answer.writtenBytes}, written ${done.writtenBytes}`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

for (const [step, nth] of [["written", 1], ["verified", 2], ["committed", 1], ["moved", 1], ["moved", 2], ["removed", 1], ["removed", 9]] as const) {
    test(`stopped at ${step} #${nth}: every point reads back, the next recovery finishes or undoes it`, async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-consolidate-"));
        try {
            const points = await makeChain(dir, 6, 2);
            let seen = 0;
            const stop = new Error("stopped");
            await assert.rejects(consolidateChain(dir, "virtnbdbackup.3", {
                dryRun: false,
                onStep: s => { if (s === step && ++seen === nth) throw stop; },
            }), (err: unknown) => err === stop);
            const committed = fs.existsSync(path.join(dir, CONSOLIDATE_JOURNAL));
            assert.equal(committed, !["written", "verified"].includes(step), "the journal exists from the commit on");
            // A thrown error before the commit cleans up like a failed run; a SIGKILL would leave the staging folder.
            await assertPoints(dir, points, committed ? 3 : 0, `stopped at ${step}`);
            assert.equal(recoverConsolidation(dir), committed ? "forward" : undefined);
            assert.ok(!fs.existsSync(path.join(dir, STAGING_DIR)) && !fs.existsSync(path.join(dir, CONSOLIDATE_JOURNAL)));
            await assertPoints(dir, points, committed ? 3 : 0, "recovered");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
}

for (const compressed of [false, 2] as const) {
    test(`incs 3..5 of 8, ${compressed === false ? "plain" : "lz4"}, merged into one inc of 5: points 0..2 and 5..8 exact, 3 and 4 gone`, async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-consolidate-"));
        try {
            const points = await makeChain(dir, 8, compressed);
            const answer = await consolidateChain(dir, "virtnbdbackup.5", { dryRun: false, from: "virtnbdbackup.3" });
            assert.deepEqual(answer.dropped, ["virtnbdbackup.3", "virtnbdbackup.4"]);
            assert.ok(answer.freed > 0, String(answer.freed));
            for (const n of [0, 1, 2, 5, 6, 7, 8])
                for (const dev of DEVS)
                    assert.ok((await readPoint(dir, dev, `virtnbdbackup.${n}`)).equals(points[n].get(dev)!), `${dev} at point ${n}`);
            for (const dev of DEVS) {
                const merged = await StreamSource.open(path.join(dir, `${dev}.inc.virtnbdbackup.5.data`));
                assert.equal(merged.meta.parentCheckpoint, "virtnbdbackup.2");
                assert.equal(merged.meta.incremental, true);
                assert.ok(merged.extents.every(e => e.data), "an incremental holds data frames only");
                await merged.close();
                assert.ok(!fs.existsSync(path.join(dir, `${dev}.inc.virtnbdbackup.3.data`)));
            }
            await assert.rejects(readPoint(dir, "vda", "virtnbdbackup.4"), /no backup of disk vda matches/);
            await assert.rejects(consolidateChain(dir, "virtnbdbackup.8", { dryRun: false, from: "virtnbdbackup.6" }), /newest/);
            await assert.rejects(consolidateChain(dir, "virtnbdbackup.7", { dryRun: false, from: "virtnbdbackup.4" }), /no incremental backup of virtnbdbackup.4/);
            // Then the prefix: the full and incs up to the merged one become a full of 5.
            await consolidateChain(dir, "virtnbdbackup.5", { dryRun: false });
            await assertPoints(dir, points, 5, "prefix after the middle");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
}

test("an incremental merge stopped after its switch began is finished by the next recovery", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-consolidate-"));
    try {
        const points = await makeChain(dir, 6, false);
        const stop = new Error("stopped");
        await assert.rejects(consolidateChain(dir, "virtnbdbackup.4", {
            dryRun: false, from: "virtnbdbackup.2", onStep: s => { if (s === "moved") throw stop; },
        }), (err: unknown) => err === stop);
        // Points before the merge are untouched meanwhile.
        for (const n of [0, 1])
            for (const dev of DEVS)
                assert.ok((await readPoint(dir, dev, `virtnbdbackup.${n}`)).equals(points[n].get(dev)!));
        assert.equal(recoverConsolidation(dir), "forward");
        for (const n of [0, 1, 4, 5, 6])
            for (const dev of DEVS)
                assert.ok((await readPoint(dir, dev, `virtnbdbackup.${n}`)).equals(points[n].get(dev)!), `${dev} at ${n}`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
