// SPDX-License-Identifier: GPL-3.0-or-later
// NbdSource against real nbdkit: a chunk bigger than the request size is read as several requests over
// the connections and comes back whole; when one of them fails, the read rejects only once none of the
// others still fills the buffer (the copy reuses it). Against real qemu-nbd: the extents of a disk above
// 4 GiB (two block status requests) by base:allocation and by a dirty bitmap, as nbdinfo --map gives them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { allocationToExtents, dirtyToExtents } from "../../helper/engine/extents.ts";
import { CONTEXT_ALLOCATION, NbdSource } from "../../helper/engine/nbd-source.ts";
import { mapWithNbdinfo } from "../../helper/engine/qemu-map.ts";
import { runOk } from "../lib/exec.ts";
import { testBed } from "../lib/test-bed.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZE = 8 * MiB;

// nbdkit only, no libvirt: the sockets and pid files are in the work folder.
const bed = testBed({ name: "nbdsrc", libvirtd: false });
const servers: ChildProcess[] = [];

bed.onTeardown(async () => {
    for (const child of servers) {
        if (child.exitCode === null && child.signalCode === null) {
            const gone = new Promise(resolve => child.once("exit", resolve));
            child.kill("SIGKILL");
            await gone;
        }
    }
});

/** nbdkit serving `args` on a fresh socket; resolves once it listens (it writes its pid file then). */
async function nbdkit(name: string, args: string[]): Promise<string> {
    const socket = path.join(bed.work, `${name}.sock`);
    const pidFile = `${socket}.pid`;
    const child = spawn("nbdkit", ["-U", socket, "-P", pidFile, "-f", "--exit-with-parent", ...args], { stdio: "ignore" });
    servers.push(child);
    for (let i = 0; i < 500 && !fs.existsSync(pidFile); i++) {
        if (child.exitCode !== null) throw new Error(`nbdkit ${args.join(" ")} exited`);
        await new Promise(resolve => setTimeout(resolve, 20));
    }
    if (!fs.existsSync(pidFile)) throw new Error("nbdkit did not start");
    return socket;
}

/** nbdkit's pattern plugin: each 8-byte big-endian word holds its own offset. */
function pattern(offset: number, length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let at = 0; at < length; at += 8) out.writeBigUInt64BE(BigInt(offset + at), at);
    return out;
}

test("a chunk bigger than the request size is read in pieces over every connection, bytes in place", async () => {
    const socket = await nbdkit("pattern", ["pattern", `size=${SIZE}`]);
    const nbd = await NbdSource.open({ socket, exportName: "", connections: 2, requestSize: 64 * KiB });
    try {
        assert.equal(nbd.connections, 2, "nbdkit's pattern plugin allows multi-conn");
        const buffer = Buffer.alloc(2 * MiB, 0xee);
        // Not a multiple of the request size: the last piece is shorter.
        const length = MiB + 8 * 1000;
        const offset = 3 * MiB - 8 * 123;
        const data = await nbd.read({ offset, length }, buffer);
        assert.equal(data.length, length);
        assert.ok(data.equals(pattern(offset, length)), "the pieces landed at their places");
        assert.equal(buffer[length], 0xee, "nothing written past the chunk");
        // A chunk no bigger than one request is one request.
        const small = await nbd.read({ offset: 8 * 10, length: 64 * KiB }, Buffer.alloc(64 * KiB));
        assert.ok(small.equals(pattern(8 * 10, 64 * KiB)));
    } finally {
        await nbd.close();
    }
});

test("a failing piece rejects the read only after the slow pieces of the same chunk have filled the buffer", async () => {
    // Reads take 1 s; a piece past the end of the export fails at once (libnbd checks the bounds).
    const socket = await nbdkit("slow", ["--filter=delay", "pattern", `size=${SIZE}`, "rdelay=1"]);
    const nbd = await NbdSource.open({ socket, exportName: "", connections: 2, requestSize: 256 * KiB });
    try {
        const buffer = Buffer.alloc(MiB);
        const offset = SIZE - 300 * KiB;
        const started = performance.now();
        await assert.rejects(nbd.read({ offset, length: MiB }, buffer), /out of bounds|Invalid argument/i);
        const waited = performance.now() - started;
        assert.ok(waited >= 900, `rejected after ${waited.toFixed(0)} ms, before the slow piece had answered`);
        assert.ok(buffer.subarray(0, 256 * KiB).equals(pattern(offset, 256 * KiB)), "the slow piece completed first");
    } finally {
        await nbd.close();
    }
});

test("extents by base:allocation and by a dirty bitmap over 4 GiB are what nbdinfo --map reports", async () => {
    const GiB = 1024 * MiB;
    const image = path.join(bed.work, "bitmap.qcow2");
    await runOk("qemu-img", ["create", "-q", "-f", "qcow2", image, "5G"]);
    await runOk("qemu-img", ["bitmap", "--add", image, "since-x"]);
    // Recorded by the enabled bitmap: data, a 4 KiB write (its whole 64 KiB granule is dirty), zeroes
    // written over data, and data past 4 GiB, where the second block status request starts.
    await runOk("qemu-io", ["-f", "qcow2", image,
        "-c", "write -P 1 0 128k", "-c", "write -P 2 1m 4k", "-c", "write -z 64k 64k", "-c", `write -P 3 ${4 * GiB + 64 * KiB} 192k`]);
    const socket = path.join(bed.work, "bitmap.sock");
    const pidFile = `${socket}.pid`;
    const child = spawn("qemu-nbd", ["-r", "-e", "4", "-f", "qcow2", "-B", "since-x", "-k", socket, "--pid-file", pidFile, "-t", image], { stdio: "ignore" });
    servers.push(child);
    for (let i = 0; i < 500 && !fs.existsSync(pidFile); i++)
        await new Promise(resolve => setTimeout(resolve, 20));
    const dirty = "qemu:dirty-bitmap:since-x";
    const nbd = await NbdSource.open({ socket, exportName: "", contexts: [CONTEXT_ALLOCATION, dirty] });
    try {
        assert.deepEqual(await nbd.extents(dirty), [
            { offset: 0, length: 128 * KiB, data: true },
            { offset: MiB, length: 64 * KiB, data: true },
            { offset: 4 * GiB + 64 * KiB, length: 192 * KiB, data: true },
        ]);
        assert.deepEqual(await nbd.extents(dirty), dirtyToExtents(await mapWithNbdinfo(socket, "", dirty)));
        const allocation = await nbd.extents(CONTEXT_ALLOCATION);
        assert.deepEqual(allocation, allocationToExtents(await mapWithNbdinfo(socket, "", CONTEXT_ALLOCATION)));
        // The 4 KiB write's cluster: the rest of it is a hole in the image file, which QEMU reports as zero.
        assert.deepEqual(allocation.filter(e => e.data), [
            { offset: 0, length: 64 * KiB, data: true },
            { offset: MiB, length: 4 * KiB, data: true },
            { offset: 4 * GiB + 64 * KiB, length: 192 * KiB, data: true },
        ], "the zeroes written over data read as zero, not as data");
        assert.equal(allocation.reduce((n, e) => n + e.length, 0), 5 * GiB, "the extents cover the disk");
        await assert.rejects(nbd.extents("qemu:allocation-depth"), /no extents are known/);
    } finally {
        await nbd.close();
    }
});
