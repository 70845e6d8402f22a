// SPDX-License-Identifier: GPL-3.0-or-later
// Test data and Python's zlib / lz4.frame (Debian's /usr/bin/python3 with python3-lz4) as references.
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import v8 from "node:v8";
import vm from "node:vm";

export const MiB = 1024 * 1024;
const PYTHON = "/usr/bin/python3";

function python(script: string, input: Uint8Array, args: string[] = []): Buffer {
    return execFileSync(PYTHON, ["-c", script, ...args], { input, maxBuffer: 256 * MiB });
}

/** zlib.adler32(data, seed) computed by Python. */
export function pythonAdler32(data: Uint8Array, seed = 1): number {
    const script = "import sys, zlib; print(zlib.adler32(sys.stdin.buffer.read(), int(sys.argv[1])))";
    return Number(python(script, data, [String(seed)]).toString("utf8").trim());
}

/** lz4.frame.decompress(frame) by Python. */
export function pythonLz4Decompress(frame: Uint8Array): Buffer {
    return python("import sys, lz4.frame; sys.stdout.buffer.write(lz4.frame.decompress(sys.stdin.buffer.read()))", frame);
}

/**
 * lz4.frame.compress as the other tool calls it: level 2, block and content checksums (content size by default);
 * `options` change the level and which checksums the frame carries.
 */
export function pythonLz4Compress(data: Uint8Array, options: { level?: number; blockChecksum?: boolean; contentChecksum?: boolean } = {}): Buffer {
    const { level = 2, blockChecksum = true, contentChecksum = true } = options;
    const py = (b: boolean) => (b ? "True" : "False");
    const script = "import sys, lz4.frame; sys.stdout.buffer.write(lz4.frame.compress(sys.stdin.buffer.read(), " +
        `compression_level=${level}, block_checksum=${py(blockChecksum)}, content_checksum=${py(contentChecksum)}))`;
    return python(script, data);
}

/** English-like text: compresses, but not to nothing. */
export function text(length: number, seed = 1): Buffer {
    const words = ["backup", "checkpoint", "qemu", "disk", "extent", "bitmap", "stream", "frame", "the", "of",
        "virtual", "machine", "restore", "incremental", "data", "zero", "lz4", "adler32", "libvirt", "nbd"];
    const out = Buffer.allocUnsafe(length);
    let state = seed >>> 0 || 1;
    let at = 0;
    while (at < length) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        at += out.write(words[(state >>> 16) % words.length] + (state & 0x100 ? ". " : " "), at, "latin1");
    }
    return out;
}

/** The first half random bytes, the second half text: what a disk chunk often looks like. */
export function halfRandom(length: number): Buffer {
    const half = Math.floor(length / 2);
    return Buffer.concat([crypto.randomBytes(half), text(length - half)]);
}

export function gcNow(): void {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) return gc();
    v8.setFlagsFromString("--expose-gc");
    (vm.runInNewContext("gc") as () => void)();
}

export async function settle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
        gcNow();
        await new Promise((resolve) => setImmediate(resolve));
    }
}

export interface RssGrowth {
    /** Highest RSS seen during the calls minus RSS before them, in MiB. */
    peakMiB: number;
    /** RSS after the calls and a full GC minus RSS before them, in MiB. */
    afterMiB: number;
}

/**
 * Calls `compress(input)` `count` times, `inFlight` at a time, dropping each result at once (as
 * StreamSink does after writing it), and reports how RSS grew. `gcEach`: a full GC after every call,
 * so that only memory nothing can free remains.
 */
export async function rssGrowth(
    compress: (data: Buffer) => Promise<Uint8Array>, input: Buffer, count: number, inFlight: number, gcEach: boolean,
): Promise<RssGrowth> {
    await settle();
    const before = process.memoryUsage.rss();
    let peak = before;
    let next = 0;
    async function lane(): Promise<void> {
        while (next < count) {
            next++;
            const frame = await compress(input);
            if (frame.length === 0) throw new Error("empty frame");
            if (gcEach) gcNow();
            peak = Math.max(peak, process.memoryUsage.rss());
        }
    }
    await Promise.all(Array.from({ length: inFlight }, lane));
    await settle();
    const after = process.memoryUsage.rss();
    return { peakMiB: (peak - before) / MiB, afterMiB: (after - before) / MiB };
}
