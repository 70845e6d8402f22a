// SPDX-License-Identifier: GPL-3.0-or-later
// Where does our full backup spend its time? Three looks, on a VM built like the benchmark's:
//  1. phases of our CLI, from the arrival times of its --json events (start-up, job start, extent planning,
//     copy, sidecars/fsync/checkpoint, exit);
//  2. the copy pipeline alone (helper/engine, unchanged) on a pull-mode job started by hand, with other
//     chunk sizes, requests in flight and connections than backupDisk uses, into a null sink (reads only),
//     plain file writes with the adler32 left out / in JS on the main thread / on the thread pool, and
//     the real stream file;
//  3. nbdcopy with 1 and 4 connections, for comparison.
// Usage: node --import tsx bench/experiments/knobs.ts [--small]
// Env: EXP_VARIANTS (chunk MiB/in flight/connections, comma separated), EXP_REPS (default 2).
import { spawn } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { copyExtents } from "../../helper/engine/copy.ts";
import type { Chunk, Extent, Sink } from "../../helper/engine/endpoint.ts";
import { dataBytes } from "../../helper/engine/extents.ts";
import { CONTEXT_ALLOCATION, NbdSource } from "../../helper/engine/nbd-source.ts";
import { StreamSink } from "../../helper/engine/stream-sink.ts";
import { Adler32, adler32 } from "../../helper/engine/adler32.ts";
import { ensureLibvirtd } from "../../test/lib/libvirtd.ts";
import { TestVm } from "../../test/lib/vm.ts";
import { cleanupAll, cleanupOnSignals, onCleanup } from "../lib/cleanup.ts";
import { FULL, SMOKE } from "../lib/config.ts";
import { dropCaches } from "../lib/host.ts";
import { measureOk, stats } from "../lib/measure.ts";
import { startPullJob } from "../lib/pull-job.ts";
import { deleteAllCheckpoints, ourCli, snapshotOurClis } from "../lib/tools.ts";

const MiB = 2 ** 20;
const list = (name: string, fallback: number[]) => (process.env[name]?.split(",").map(Number) ?? fallback).filter(n => n > 0);
const REPS = list("EXP_REPS", [2])[0] ?? 2;

/**
 * [chunk MiB, requests in flight, connections] to try: backupDisk's plain setting (4/16/2) first, then one
 * knob changed at a time. EXP_VARIANTS="4/16/2,16/8/4" replaces the list.
 */
function variants(): [number, number, number][] {
    const given = process.env.EXP_VARIANTS?.split(",").map(v => v.split("/").map(Number) as [number, number, number]);
    return given ?? [[4, 16, 2], [4, 16, 1], [4, 16, 4], [1, 16, 2], [16, 16, 2], [32, 8, 2], [4, 4, 2], [4, 32, 2]];
}

/** Accepts everything, writes nothing: what reading alone costs. */
class NullSink implements Sink {
    beginData(): void {}
    async writeChunk(_chunk: Chunk, _data: Buffer): Promise<void> {}
    endData(): void {}
    async writeZero(): Promise<void> {}
    async finish(): Promise<void> {}
    async abort(): Promise<void> {}
}

/**
 * Positioned writes in order with a datasync every 256 MiB and an fsync at the end, as StreamSink does
 * (without its framing); the adler32 of the bytes either not at all, in JS on the main thread (as
 * StreamSink does), or natively on the thread pool (zlib deflate at level 0 ends with the adler32 of its
 * input) and combined in order on the main thread.
 */
class FileSink implements Sink {
    private position = 0;
    private synced = 0;
    private background: Promise<void> | undefined;
    private readonly js = new Adler32();
    private sum = 1;
    readonly transform?: (chunk: Chunk, data: Buffer) => Promise<Buffer>;
    private readonly sums = new Map<number, number>();

    constructor(private readonly fh: fsp.FileHandle, private readonly checksum: "none" | "js" | "pool") {
        if (checksum === "pool") {
            // Runs concurrently with the reads; the sum is parked until writeChunk takes it in order.
            this.transform = async (chunk, data) => {
                this.sums.set(chunk.offset, await poolAdler32(data));
                return data;
            };
        }
    }

    beginData(): void {}
    endData(): void {}
    async writeZero(): Promise<void> {}

    async writeChunk(chunk: Chunk, data: Buffer): Promise<void> {
        const writing = this.fh.write(data, 0, data.length, this.position);
        if (this.checksum === "js")
            this.js.update(data);
        if (this.checksum === "pool") {
            this.sum = adler32Combine(this.sum, this.sums.get(chunk.offset)!, data.length);
            this.sums.delete(chunk.offset);
        }
        await writing;
        this.position += data.length;
        if (!this.background && this.position - this.synced >= 256 * MiB) {
            this.synced = this.position;
            this.background = this.fh.datasync().then(() => { this.background = undefined });
        }
    }

    async finish(): Promise<void> {
        await this.background;
        await this.fh.sync();
        await this.fh.close();
    }

    async abort(): Promise<void> {
        await this.fh.close().catch(() => {});
    }

    digest(): number {
        return this.checksum === "js" ? this.js.digest() : this.sum;
    }
}

/** adler32 of buf computed by zlib on the thread pool: the last 4 bytes of a zlib stream are its adler32. */
function poolAdler32(buf: Buffer): Promise<number> {
    return new Promise((resolve, reject) => zlib.deflate(buf, { level: 0 }, (err, out) => err ? reject(err) : resolve(out.readUInt32BE(out.length - 4))));
}

/**
 * adler32 of A‖B from adler32(A), adler32(B) and B's length. With a = 1 + Σbytes and b = Σ(running a):
 * a = a1 + a2 − 1 and b = b1 + b2 + lenB·(a1 − 1), all mod 65521.
 */
function adler32Combine(sum1: number, sum2: number, len2: number): number {
    const M = 65521;
    const a1 = sum1 & 0xffff, b1 = sum1 >>> 16, a2 = sum2 & 0xffff, b2 = sum2 >>> 16;
    const a = (a1 + a2 + M - 1) % M;
    const b = (b1 + b2 + ((len2 % M) * ((a1 + M - 1) % M)) % M) % M;
    return (b * 65536 + a) >>> 0;
}

/** Runs our CLI with --json and returns the seconds from spawn at which each event kind first/last arrived. */
async function phases(domain: string, out: string): Promise<Record<string, number>> {
    const t0 = performance.now();
    const seen: Record<string, number> = {};
    const child = spawn(process.execPath, [ourCli("virtnbdbackup"), "-d", domain, "-l", "full", "-o", out, "--json"], { stdio: ["ignore", "pipe", "inherit"] });
    let rest = "";
    child.stdout.on("data", (b: Buffer) => {
        const now = (performance.now() - t0) / 1000;
        const lines = (rest + b.toString("utf8")).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
            if (!line.trim())
                continue;
            const e = JSON.parse(line) as { event: string; done?: number };
            const key = e.event === "progress" ? (seen["first progress"] === undefined ? "first progress" : "progress") : e.event;
            if (seen[key] === undefined || key === "progress")
                seen[key] = now;
        }
    });
    const code = await new Promise<number | null>(resolve => child.on("close", resolve));
    seen["exit"] = (performance.now() - t0) / 1000;
    if (code !== 0)
        throw new Error(`our backup failed (exit ${code})`);
    return seen;
}

type SinkKind = "null" | "write" | "write+adler(js)" | "write+adler(pool)" | "stream";

async function pipeline(socket: string, sinkKind: SinkKind, work: string, maxChunk: number, inFlight: number, connections: number): Promise<number> {
    await dropCaches();
    const t0 = performance.now();
    const nbd = await NbdSource.open({ socket, exportName: "vda", contexts: [CONTEXT_ALLOCATION], connections });
    try {
        const extents: Extent[] = await nbd.extents(CONTEXT_ALLOCATION);
        const file = path.join(work, `exp-${process.pid}.data`);
        const fileSink = sinkKind.startsWith("write")
            ? new FileSink(await fsp.open(file, "w"), sinkKind === "write" ? "none" : sinkKind === "write+adler(js)" ? "js" : "pool")
            : undefined;
        const sink = sinkKind === "null" ? new NullSink() : fileSink ?? await StreamSink.create(file, {
            virtualSize: nbd.size, dataSize: dataBytes(extents), date: "2026-01-01T00:00:00", diskName: "vda", diskFormat: "qcow2",
            checkpointName: "x", compressed: false, compressionMethod: "lz4", parentCheckpoint: "", incremental: false, streamVersion: 2,
        }, { compress: false, maxRequestSize: nbd.maxRequest });
        await copyExtents(extents, nbd, sink, { maxChunk, maxInFlight: inFlight, maxBytesInFlight: Math.max(64 * MiB, maxChunk * inFlight) });
        const seconds = (performance.now() - t0) / 1000;
        // The experiment's own check: both ways of summing give the checksum of the bytes written.
        if (fileSink && sinkKind !== "write" && fileSink.digest() !== adler32(fs.readFileSync(file)))
            throw new Error(`${sinkKind}: adler32 differs from the file's`);
        for (const f of [file, `${file}.chksum`])
            fs.rmSync(f, { force: true });
        return seconds;
    } finally {
        await nbd.close();
    }
}

async function main() {
    cleanupOnSignals();
    const cfg = process.argv.includes("--small") ? SMOKE : FULL;
    onCleanup("libvirtd", await ensureLibvirtd());
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-knobs-`));
    onCleanup("work", () => fs.rmSync(work, { recursive: true, force: true }));
    await snapshotOurClis(work);
    const vm = await TestVm.create({ disks: [{ size: cfg.diskSize, writes: cfg.writes }] });
    onCleanup("VM", () => vm.cleanup());

    console.log("## 1. Phases of our full backup (s since spawn, event arrival)\n");
    for (let i = 0; i < REPS; i++) {
        const out = path.join(work, `phases-${i}`);
        await dropCaches();
        const p = await phases(vm.name, out);
        console.log(Object.entries(p).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(" | "));
        fs.rmSync(out, { recursive: true, force: true });
        await deleteAllCheckpoints(vm.name);
    }

    const job = await startPullJob(vm.name, "vda", work);
    onCleanup("job", async () => { await job.stop() });
    const socket = /socket=(.*)$/.exec(job.uri)![1]!;

    console.log("\n## 2. Copy pipeline alone (median s of", REPS, "runs)\n");
    console.log("| sink | chunk MiB | in flight | connections | s |");
    console.log("| --- | --- | --- | --- | --- |");
    for (const sinkKind of ["null", "write", "write+adler(js)", "write+adler(pool)", "stream"] as const) {
        // The knob variants only for the real sink and for reading alone; the others at backupDisk's setting.
        for (const [chunk, inFlight, conns] of sinkKind === "null" || sinkKind === "stream" ? variants() : variants().slice(0, 1)) {
            const times: number[] = [];
            for (let i = 0; i < REPS; i++)
                times.push(await pipeline(socket, sinkKind, work, chunk * MiB, inFlight, conns));
            console.log(`| ${sinkKind} | ${chunk} | ${inFlight} | ${conns} | ${stats(times).median.toFixed(2)} |`);
        }
    }

    console.log("\n## 3. nbdcopy (median s)\n");
    for (const conns of [1, 4]) {
        for (const target of ["null:", path.join(work, "nbdcopy.raw")]) {
            const times: number[] = [];
            for (let i = 0; i < REPS; i++) {
                await dropCaches();
                times.push((await measureOk("nbdcopy", "nbdcopy", [`--connections=${conns}`, job.uri, target])).wallMs / 1000);
                fs.rmSync(path.join(work, "nbdcopy.raw"), { force: true });
            }
            console.log(`nbdcopy --connections=${conns} → ${target.startsWith("/") ? "file" : target}: ${stats(times).median.toFixed(2)}`);
        }
    }
}

main().then(() => cleanupAll(), async err => {
    console.error(err);
    await cleanupAll();
    process.exitCode = 1;
});
