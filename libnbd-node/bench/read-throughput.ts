// SPDX-License-Identifier: GPL-3.0-or-later
// Sequential read throughput of a 1 GiB qemu-nbd export through libnbd-node, beside nbdcopy
// (libnbd's own copying tool, C, multi-threaded) reading the same export in the same run.
//
//   npm run bench:nbd -w libnbd-node          (from the repository root)
//   BENCH_SIZE_MIB=256 BENCH_REQUEST_KIB=256 ...   to change the image size or request size
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Handle } from "libnbd-node";

const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_SIZE_MIB ?? 1024) * MiB;
const REQUEST = Number(process.env.BENCH_REQUEST_KIB ?? 256) * 1024;
const HANDLES = [1, 2, 4];
const IN_FLIGHT = [1, 4, 16, 64];
const REPEAT = 3;

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
}

function mibPerSecond(bytes: number, ms: number): number {
    return bytes / MiB / (ms / 1000);
}

function writeRandomImage(file: string): void {
    const block = Buffer.allocUnsafe(64 * MiB);
    const fd = fs.openSync(file, "w");
    try {
        for (let written = 0; written < SIZE; written += block.length) {
            crypto.randomFillSync(block);
            fs.writeSync(fd, block, 0, Math.min(block.length, SIZE - written));
        }
    } finally {
        fs.closeSync(fd);
    }
}

async function startQemuNbd(dir: string, image: string): Promise<{ socket: string; stop(): Promise<void> }> {
    const socket = path.join(dir, "nbd.sock");
    const pidFile = path.join(dir, "qemu-nbd.pid");
    const child = spawn("qemu-nbd", ["-k", socket, "--pid-file", pidFile, "--persistent", "--shared=8",
        "-r", "-f", "raw", image], { stdio: ["ignore", "ignore", "inherit"] });
    const exited = new Promise(resolve => child.once("exit", resolve));
    const deadline = Date.now() + 15_000;
    while (!(fs.existsSync(pidFile) && fs.readFileSync(pidFile, "utf8").trim() === String(child.pid))) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error("qemu-nbd did not start");
        await new Promise(resolve => setTimeout(resolve, 20));
    }
    return {
        socket,
        async stop() {
            child.kill("SIGTERM");
            await exited;
        },
    };
}

function timeNbdcopy(uri: string): number {
    const start = performance.now();
    const result = spawnSync("nbdcopy", [uri, "null:"], { stdio: ["ignore", "ignore", "inherit"] });
    if (result.status !== 0) throw new Error(`nbdcopy failed: ${result.status ?? result.signal}`);
    return performance.now() - start;
}

/** Reads the whole export once: `handles` connections, `inFlight` reads in flight on each. */
async function timeBinding(handles: Handle[], inFlight: number): Promise<number> {
    let nextOffset = 0;
    async function reader(h: Handle, buffer: Buffer): Promise<void> {
        for (;;) {
            const offset = nextOffset;
            if (offset >= SIZE) return;
            nextOffset += REQUEST;
            const view = offset + REQUEST <= SIZE ? buffer : buffer.subarray(0, SIZE - offset);
            await h.pread(view, offset);
        }
    }
    const readers: Promise<void>[] = [];
    const start = performance.now();
    for (const h of handles) {
        for (let i = 0; i < inFlight; i++) readers.push(reader(h, Buffer.allocUnsafe(REQUEST)));
    }
    await Promise.all(readers);
    return performance.now() - start;
}

async function connectAll(uri: string, count: number, preadInitialize = true): Promise<Handle[]> {
    const handles: Handle[] = [];
    for (let i = 0; i < count; i++) {
        const h = new Handle();
        // libnbd's default zeroes each read buffer first; one extra row shows what that costs.
        h.setPreadInitialize(preadInitialize);
        await h.connectUri(uri);
        handles.push(h);
    }
    return handles;
}

async function main(): Promise<void> {
    const dir = fs.mkdtempSync(path.join("/var/tmp", `vnbt-bench-${process.pid}-`));
    let server: Awaited<ReturnType<typeof startQemuNbd>> | undefined;
    try {
        const image = path.join(dir, "random.raw");
        process.stderr.write(`writing ${SIZE / MiB} MiB of random data to ${image}\n`);
        writeRandomImage(image);
        server = await startQemuNbd(dir, image);
        const uri = `nbd+unix:///?socket=${encodeURIComponent(server.socket)}`;

        // Warm the page cache, so that every run reads from memory.
        timeNbdcopy(uri);
        const nbdcopyRuns = Array.from({ length: REPEAT }, () => timeNbdcopy(uri));
        const nbdcopy = mibPerSecond(SIZE, median(nbdcopyRuns));

        const rows: { handles: number; inFlight: number; rate: number }[] = [];
        for (const handleCount of HANDLES) {
            const handles = await connectAll(uri, handleCount);
            for (const inFlight of IN_FLIGHT) {
                const runs: number[] = [];
                for (let r = 0; r < REPEAT; r++) runs.push(await timeBinding(handles, inFlight));
                rows.push({ handles: handleCount, inFlight, rate: mibPerSecond(SIZE, median(runs)) });
                process.stderr.write(".");
            }
            for (const h of handles) h.close();
        }
        const best = rows.reduce((a, b) => (b.rate > a.rate ? b : a));
        const noZeroing = await connectAll(uri, best.handles, false);
        const noZeroingRuns: number[] = [];
        for (let r = 0; r < REPEAT; r++) noZeroingRuns.push(await timeBinding(noZeroing, best.inFlight));
        for (const h of noZeroing) h.close();
        const noZeroingRate = mibPerSecond(SIZE, median(noZeroingRuns));
        process.stderr.write("\n");

        const lines = [
            `Sequential read of a ${SIZE / MiB} MiB qemu-nbd export (raw, random data, page cache), ` +
            `${REQUEST / 1024} KiB requests, median of ${REPEAT}`,
            "",
            "| reader | handles | in flight per handle | MiB/s | ratio to nbdcopy |",
            "|---|---:|---:|---:|---:|",
            `| nbdcopy URI null: | (its default) | (its default) | ${nbdcopy.toFixed(0)} | 1.00 |`,
            ...rows.map(r => `| libnbd-node${r === best ? " (best)" : ""} | ${r.handles} | ${r.inFlight} | ` +
                `${r.rate.toFixed(0)} | ${(r.rate / nbdcopy).toFixed(2)} |`),
            `| libnbd-node, setPreadInitialize(false) | ${best.handles} | ${best.inFlight} | ` +
                `${noZeroingRate.toFixed(0)} | ${(noZeroingRate / nbdcopy).toFixed(2)} |`,
            "",
            `best: ${best.handles} handle(s) × ${best.inFlight} in flight = ` +
            `${(best.rate / nbdcopy * 100).toFixed(0)}% of nbdcopy`,
        ];
        console.log(lines.join("\n"));
    } finally {
        await server?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().catch(error => {
    console.error(error);
    process.exitCode = 1;
});
