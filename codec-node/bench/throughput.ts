// SPDX-License-Identifier: GPL-3.0-or-later
// Speed of adler32 and of lz4 frames on 32 MiB chunks (1 GiB in all), one thread and 2 in flight:
//   node --import tsx codec-node/bench/throughput.ts
import crypto from "node:crypto";
import { adler32, lz4CompressFrame, lz4CompressFrameSync, lz4DecompressFrame } from "codec-node";
import { halfRandom, MiB, text } from "../test/helpers.ts";

const CHUNK = 32 * MiB;
const ROUNDS = 32;
const STREAM = { level: 2, blockChecksum: true, contentChecksum: true };

function rate(bytes: number, ms: number): string {
    return `${(bytes / ms / 1e6).toFixed(2)} GB/s`;
}

async function inFlight(n: number, call: () => Promise<unknown>): Promise<number> {
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: n }, async () => {
        while (next++ < ROUNDS) await call();
    }));
    return performance.now() - t0;
}

async function main(): Promise<void> {
    const inputs: Array<[string, Buffer]> = [
        ["random", crypto.randomBytes(CHUNK)],
        ["half random", halfRandom(CHUNK)],
        ["text", text(CHUNK)],
    ];
    let t0 = performance.now();
    let sum = 1;
    for (let i = 0; i < ROUNDS; i++) sum = adler32(inputs[0][1], sum);
    console.log(`adler32 (libdeflate): ${rate(ROUNDS * CHUNK, performance.now() - t0)}`);
    for (const [name, data] of inputs) {
        t0 = performance.now();
        let frame: Buffer = Buffer.alloc(0);
        for (let i = 0; i < ROUNDS; i++) frame = lz4CompressFrameSync(data, STREAM);
        const sync = performance.now() - t0;
        const two = await inFlight(2, () => lz4CompressFrame(data, STREAM));
        const unpack = await inFlight(2, () => lz4DecompressFrame(frame, CHUNK));
        console.log(`lz4 level 2 + checksums, ${name} (ratio ${(frame.length / CHUNK).toFixed(3)}): compress ${rate(ROUNDS * CHUNK, sync)} ` +
            `on one thread, ${rate(ROUNDS * CHUNK, two)} with 2 in flight; decompress ${rate(ROUNDS * CHUNK, unpack)} with 2 in flight`);
    }
}

void main();
