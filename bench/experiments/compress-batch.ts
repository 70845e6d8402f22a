// SPDX-License-Identifier: GPL-3.0-or-later
// What -z costs per small extent in-process: the copy pipeline (helper/engine/copy.ts) from a source that
// answers at once (random data) into the real StreamSink with lz4, many small extents, as a fragmented inc has.
// The sink's own transform (small chunks compressed together, lz4CompressFrames) against one lz4CompressFrame job
// per chunk (what it did before), alternating; wall and CPU per extent.
//   node --import tsx bench/experiments/compress-batch.ts [--count=4000] [--length=65536] [--rounds=5]
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { lz4CompressFrame } from "codec-node";
import { copyExtents } from "../../helper/engine/copy.ts";
import type { Chunk, Extent, Source } from "../../helper/engine/endpoint.ts";
import { splitFixed } from "../../helper/engine/extents.ts";
import { StreamSink } from "../../helper/engine/stream-sink.ts";
import { streamDataSize } from "../../helper/engine/stream-sink.ts";

const arg = (name: string) => process.argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const count = Number(arg("count") ?? 4000);
const length = Number(arg("length") ?? 65536);
const rounds = Number(arg("rounds") ?? 5);
const MiB = 2 ** 20;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

// Random data: nothing to gain for lz4, as in the benchmark's fragmented case.
const pool = crypto.randomBytes(8 * MiB);
const source: Source = {
    size: count * MiB,
    split: (extent: Extent, maxChunk: number) => splitFixed(extent, maxChunk),
    read: async (chunk: Chunk, buf: Buffer) => {
        const at = chunk.offset % (pool.length - chunk.length);
        pool.copy(buf, 0, at, at + chunk.length);
        return buf.subarray(0, chunk.length);
    },
    close: async () => {},
};
const extents: Extent[] = Array.from({ length: count }, (_, i) => ({ offset: i * MiB, length, data: true }));

async function once(dir: string, perChunk: boolean): Promise<{ wall: number; cpu: number }> {
    const file = path.join(dir, `vda.inc.virtnbdbackup.${perChunk ? 1 : 2}.data`);
    const sink = await StreamSink.create(file, {
        virtualSize: source.size, dataSize: streamDataSize(extents), date: "2026-12-06T00:00:00", diskName: "vda", diskFormat: "qcow2",
        checkpointName: "virtnbdbackup.1", compressed: 2, compressionMethod: "lz4", parentCheckpoint: "virtnbdbackup.0",
        incremental: true, streamVersion: 2, domainUuid: "00000000-0000-0000-0000-000000000000",
    }, { maxRequestSize: 32 * MiB });
    if (perChunk) {
        const options = { level: 2, blockChecksum: true, contentChecksum: true, contentSize: true };
        Object.assign(sink, { transform: (_chunk: Chunk, data: Buffer) => lz4CompressFrame(data, options) });
    }
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await copyExtents(extents, source, sink, { maxChunk: MiB, maxInFlight: 64, maxBytesInFlight: 4 * MiB });
    const c = process.cpuUsage(c0);
    const wall = performance.now() - t0;
    fs.rmSync(file);
    fs.rmSync(`${file}.chksum`);
    return { wall, cpu: (c.user + c.system) / 1000 };
}

async function main() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-compress-batch-`));
    try {
        const results: Record<string, { wall: number[]; cpu: number[] }> = { "one job per chunk": { wall: [], cpu: [] }, "batched": { wall: [], cpu: [] } };
        for (let r = 0; r < rounds; r++) {
            for (const perChunk of r % 2 ? [false, true] : [true, false]) {
                const { wall, cpu } = await once(dir, perChunk);
                const row = results[perChunk ? "one job per chunk" : "batched"]!;
                row.wall.push(wall);
                row.cpu.push(cpu);
            }
        }
        console.log(`${count} × ${length} bytes of random data, -z, ${rounds} rounds (medians):`);
        for (const [name, { wall, cpu }] of Object.entries(results))
            console.log(`  ${name}: wall ${median(wall).toFixed(0)} ms (${(median(wall) * 1000 / count).toFixed(1)} µs per extent), CPU ${median(cpu).toFixed(0)} ms (${(median(cpu) * 1000 / count).toFixed(1)} µs per extent)`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().catch(err => {
    console.error(err);
    process.exitCode = 1;
});
