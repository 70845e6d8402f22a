// Why does `virtnbdbackup -z` peak at >1 GB RSS? Compresses 1.3 GB of incompressible 32 MiB chunks the way
// StreamSink does (lz4-napi compressFrame, 4 at a time, each frame dropped once "written") and prints the
// peak RSS and the heap/external memory V8 knows of. Run with and without forcing a GC between frames:
//   node --import tsx bench/experiments/lz4-rss.ts
//   node --expose-gc --import tsx bench/experiments/lz4-rss.ts --gc [--sync]
// EXP_CHUNKS (default 40) sets how many chunks: a peak that grows with it is memory never given back.
import { randomFillSync } from "node:crypto";
import { compressFrame, compressFrameSync } from "lz4-napi";

const MiB = 2 ** 20;
const CHUNK = 32 * MiB;
const CHUNKS = Number(process.env.EXP_CHUNKS ?? 40);
const IN_FLIGHT = 4;
const forceGc = process.argv.includes("--gc");
// --sync: the synchronous binding on the main thread, to tell a leak of the async task path from one of the codec.
const sync = process.argv.includes("--sync");
const gc = (globalThis as { gc?: () => void }).gc;
if (forceGc && !gc)
    throw new Error("--gc needs node --expose-gc");

const inputs = Array.from({ length: IN_FLIGHT }, () => randomFillSync(Buffer.allocUnsafe(CHUNK)));
let peakExternal = 0;
const t0 = performance.now();
let next = 0;
async function worker(slot: number) {
    while (next < CHUNKS) {
        next++;
        const options = { contentChecksum: true, blockChecksums: true };
        const frame = sync ? compressFrameSync(inputs[slot]!, options) : await compressFrame(inputs[slot]!, options);
        if (sync)
            await new Promise(resolve => setImmediate(resolve));
        // "Write" it: the frame becomes garbage right after, as in StreamSink.
        if (frame.length < CHUNK / 2)
            throw new Error("random data compressed?");
        const m = process.memoryUsage();
        peakExternal = Math.max(peakExternal, m.external + m.arrayBuffers);
        if (forceGc)
            gc!();
    }
}
async function main() {
    await Promise.all(Array.from({ length: IN_FLIGHT }, (_, i) => worker(i)));
    const seconds = (performance.now() - t0) / 1000;
    console.log(`gc forced: ${forceGc}; sync: ${sync}; ${CHUNKS} x 32 MiB in ${seconds.toFixed(2)} s (${(CHUNKS * CHUNK / 1e6 / seconds).toFixed(0)} MB/s); ` +
        `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; peak external+arrayBuffers seen ${(peakExternal / MiB).toFixed(0)} MiB`);
}

void main();
