// SPDX-License-Identifier: GPL-3.0-or-later
// Where `-z` spends its CPU on the benchmark's mixed case (500 runs of 4 KiB–4 MiB, random data), in-process
// and without a VM: a raw image holding only those extents, served by qemu-nbd (on the other core, as QEMU's
// server is), copied by our pipeline (NbdSource → copyExtents → StreamSink, the backup's settings) into a
// stream file. Two builds of helper/engine alternate: this tree's and an older copy (`--old=<dir>`, a folder
// holding helper/ of another commit, e.g. `git archive HEAD helper | tar -x -C <dir>`, placed inside the
// repository so it finds node_modules). Per run: wall, our process's CPU (every thread) and qemu-nbd's, and
// counts the timing cannot blur: most compressions at once, time with a read and a compression both running.
// Also, once: liblz4's and adler32's own CPU per MiB of the same data, on the calling thread.
//   node --import tsx bench/experiments/mixed-z.ts --old=<dir> [--rounds=6] [--plain] [--case=mixed] [--old-bytes=MiB] [--new-bytes=MiB]
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { adler32, lz4CompressFrameSync } from "codec-node";
import type { Chunk, Extent, Sink, Source } from "../../helper/engine/endpoint.ts";
import { NbdSource } from "../../helper/engine/nbd-source.ts";
import { QemuNbdServer } from "../../helper/engine/qemu-nbd.ts";
import { caseExtents, FRAGMENTED_FULL } from "../lib/fragmented.ts";

const arg = (name: string) => process.argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const rounds = Number(arg("rounds") ?? 6);
const compress = !process.argv.includes("--plain");
const c = FRAGMENTED_FULL.find(x => x.name.includes(arg("case") ?? "mixed"))!;
const MiB = 2 ** 20;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

interface Engine {
    copyExtents: typeof import("../../helper/engine/copy.ts").copyExtents;
    StreamSink: typeof import("../../helper/engine/stream-sink.ts").StreamSink;
    /** The backup's in-flight bytes (helper/backup/disk-copy.ts; before copyLimits existed: 4 MiB compressed, 16 plain). */
    maxBytesInFlight: number;
}

async function loadEngine(root: string, bytesMiB?: number): Promise<Engine> {
    const copy = await import(path.join(root, "helper/engine/copy.ts")) as typeof import("../../helper/engine/copy.ts");
    const sink = await import(path.join(root, "helper/engine/stream-sink.ts")) as typeof import("../../helper/engine/stream-sink.ts");
    const diskCopy = await import(path.join(root, "helper/backup/disk-copy.ts")) as Partial<typeof import("../../helper/backup/disk-copy.ts")>;
    const limit = bytesMiB !== undefined ? bytesMiB * MiB : diskCopy.copyLimits?.().maxBytesInFlight ?? (compress ? 4 : 16) * MiB;
    return { copyExtents: copy.copyExtents, StreamSink: sink.StreamSink, maxBytesInFlight: limit };
}

/** utime + stime of a process in seconds, from /proc. */
function procCpu(pid: number): number {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Counts what runs at once: reads, transforms (compressions); and for how long both ran together. */
class Overlap {
    reads = 0;
    transforms = 0;
    maxTransforms = 0;
    maxReads = 0;
    bothMs = 0;
    transformMs = 0;
    private since = performance.now();
    private tick(): void {
        const now = performance.now();
        if (this.transforms > 0) this.transformMs += now - this.since;
        if (this.transforms > 0 && this.reads > 0) this.bothMs += now - this.since;
        this.since = now;
    }
    change(reads: number, transforms: number): void {
        this.tick();
        this.reads += reads;
        this.transforms += transforms;
        this.maxTransforms = Math.max(this.maxTransforms, this.transforms);
        this.maxReads = Math.max(this.maxReads, this.reads);
    }
}

function counted(source: Source, o: Overlap): Source {
    return {
        size: source.size,
        split: (e, m) => source.split(e, m),
        read: async (chunk, buf) => {
            o.change(1, 0);
            try { return await source.read(chunk, buf); } finally { o.change(-1, 0); }
        },
        close: () => source.close(),
    };
}

function countedSink(sink: Sink, o: Overlap): Sink {
    const transform = sink.transform?.bind(sink);
    if (transform) {
        Object.defineProperty(sink, "transform", {
            value: async (chunk: Chunk, data: Buffer) => {
                o.change(0, 1);
                try { return await transform(chunk, data); } finally { o.change(0, -1); }
            },
        });
    }
    return sink;
}

async function once(engine: Engine, server: QemuNbdServer, extents: Extent[], dir: string, tag: string) {
    const nbd = await NbdSource.open({ socket: server.socket, exportName: server.exportName, connections: 2 });
    const o = new Overlap();
    const file = path.join(dir, `vda.inc.virtnbdbackup.${tag}.data`);
    const dataSize = extents.reduce((n, e) => n + e.length, 0);
    const sink = countedSink(await engine.StreamSink.create(file, {
        virtualSize: nbd.size, dataSize, date: "2026-12-07T00:00:00", diskName: "vda", diskFormat: "qcow2",
        checkpointName: "virtnbdbackup.1", compressed: compress ? 2 : false, compressionMethod: "lz4", parentCheckpoint: "virtnbdbackup.0",
        incremental: true, streamVersion: 2, domainUuid: "00000000-0000-0000-0000-000000000000",
    }, { maxRequestSize: nbd.maxRequest }), o);
    const q0 = procCpu(server.pid!);
    const c0 = process.cpuUsage();
    const r0 = process.resourceUsage();
    const t0 = performance.now();
    // The backup's settings (helper/backup/disk-copy.ts).
    await engine.copyExtents(extents, counted(nbd, o), sink, { maxChunk: MiB, maxInFlight: 64, maxBytesInFlight: engine.maxBytesInFlight, onSourceDone: () => {} });
    const wall = performance.now() - t0;
    const cu = process.cpuUsage(c0);
    const r1 = process.resourceUsage();
    const qemu = procCpu(server.pid!) - q0;
    await nbd.close();
    const bytes = fs.statSync(file).size;
    const sum = fs.readFileSync(`${file}.chksum`, "utf8");
    fs.rmSync(file);
    fs.rmSync(`${file}.chksum`);
    return {
        wall, cpu: (cu.user + cu.system) / 1000, sys: cu.system / 1000, qemu: qemu * 1000, bytes, sum,
        minflt: r1.minorPageFault - r0.minorPageFault, maxTransforms: o.maxTransforms, maxReads: o.maxReads, bothMs: o.bothMs, transformMs: o.transformMs,
    };
}

/** liblz4 and adler32 alone, on this thread, over the case's extents (one frame each, as the sink makes them). */
function codecAlone(extents: Extent[], data: Buffer): void {
    const t0 = process.cpuUsage();
    let out = 0;
    for (const e of extents)
        out += lz4CompressFrameSync(data.subarray(0, e.length), { level: 2, blockChecksum: true, contentChecksum: true, contentSize: true }).length;
    const lz4 = process.cpuUsage(t0);
    const t1 = process.cpuUsage();
    let s = 1;
    for (const e of extents)
        s = adler32(data.subarray(0, e.length), s);
    const ad = process.cpuUsage(t1);
    const mib = extents.reduce((n, e) => n + e.length, 0) / MiB;
    console.log(`codec alone over ${mib.toFixed(0)} MiB in ${extents.length} frames: lz4 ${((lz4.user + lz4.system) / 1000).toFixed(0)} ms (${((lz4.user + lz4.system) / mib).toFixed(0)} µs/MiB, out ${(out / MiB).toFixed(0)} MiB), adler32 ${((ad.user + ad.system) / 1000).toFixed(0)} ms`);
}

async function main() {
    const old = arg("old");
    if (!old)
        throw new Error("--old=<dir> is required");
    // --old-bytes=<MiB>, --new-bytes=<MiB>: another in-flight limit than the build's own.
    const bytes = (name: string) => arg(name) === undefined ? undefined : Number(arg(name));
    const engines: Record<string, Engine> = {
        old: await loadEngine(path.resolve(old), bytes("old-bytes")),
        new: await loadEngine(path.resolve(path.dirname(new URL(import.meta.url).pathname), "../.."), bytes("new-bytes")),
    };
    console.log(`in flight: old ${engines.old!.maxBytesInFlight / MiB} MiB, new ${engines.new!.maxBytesInFlight / MiB} MiB`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-mixed-z-`));
    let server: QemuNbdServer | undefined;
    try {
        const extents: Extent[] = caseExtents(c).map(([offset, length]) => ({ offset, length, data: true }));
        const image = path.join(dir, "disk.raw");
        const longest = Math.max(...c.lengths);
        const pieces = Array.from({ length: 8 }, () => crypto.randomBytes(longest));
        const fd = fs.openSync(image, "w");
        fs.ftruncateSync(fd, Number(c.diskSize.replace("G", "")) * 1024 * MiB);
        extents.forEach((e, i) => fs.writeSync(fd, pieces[i % 8]!, 0, e.length, e.offset));
        fs.closeSync(fd);
        codecAlone(extents, pieces[0]!);
        server = await QemuNbdServer.start(image, { format: "raw", readOnly: true, exportName: "vda" });
        const rows: Record<string, Awaited<ReturnType<typeof once>>[]> = { old: [], new: [] };
        await once(engines.new!, server, extents, dir, "warm");  // page cache, JIT
        for (let r = 0; r < rounds; r++) {
            for (const name of r % 2 ? ["new", "old"] : ["old", "new"]) {
                const res = await once(engines[name]!, server, extents, dir, name);
                rows[name]!.push(res);
                console.error(`round ${r + 1} ${name}: wall ${res.wall.toFixed(0)} ms, CPU ${res.cpu.toFixed(0)} ms (sys ${res.sys.toFixed(0)}), qemu-nbd ${res.qemu.toFixed(0)} ms, ` +
                    `faults ${res.minflt}, most compressions at once ${res.maxTransforms}, reads ${res.maxReads}, compressing ${res.transformMs.toFixed(0)} ms of which with a read ${res.bothMs.toFixed(0)} ms`);
            }
        }
        if (rows.old![0]!.sum !== rows.new![0]!.sum || rows.old![0]!.bytes !== rows.new![0]!.bytes)
            throw new Error(`the builds wrote different files: ${rows.old![0]!.bytes}/${rows.old![0]!.sum} against ${rows.new![0]!.bytes}/${rows.new![0]!.sum}`);
        console.log(`${c.name}${compress ? " -z" : ""}, ${extents.length} extents, ${rounds} rounds each, alternating (medians); files identical (${rows.new![0]!.bytes} bytes, adler32 ${rows.new![0]!.sum}):`);
        for (const [name, rs] of Object.entries(rows)) {
            const m = (f: (x: (typeof rs)[0]) => number) => median(rs.map(f));
            console.log(`  ${name}: wall ${m(x => x.wall).toFixed(0)} ms, CPU ${m(x => x.cpu).toFixed(0)} ms (${(m(x => x.cpu) * 1000 / extents.length).toFixed(0)} µs per extent; sys ${m(x => x.sys).toFixed(0)} ms), ` +
                `qemu-nbd ${m(x => x.qemu).toFixed(0)} ms, minor faults ${m(x => x.minflt)}, most compressions at once ${m(x => x.maxTransforms)}, ` +
                `compressing ${m(x => x.transformMs).toFixed(0)} ms, of which a read ran too ${m(x => x.bothMs).toFixed(0)} ms`);
        }
    } finally {
        await server?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().catch(err => {
    console.error(err);
    process.exitCode = 1;
});
