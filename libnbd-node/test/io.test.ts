// SPDX-License-Identifier: GPL-3.0-or-later
// Reads, writes, zero/trim/flush and concurrency against real nbdkit and qemu-nbd servers.
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Handle, CmdFlag, STATE_HOLE, STATE_ZERO, CONTEXT_BASE_ALLOCATION } from "libnbd-node";
import { useTestBed, startNbdkit, startQemuNbd, patternBytes, run, type Server } from "./servers.ts";

const MiB = 1024 * 1024;
const bed = useTestBed();
const { servers, handles } = bed;

async function server(start: Promise<Server>): Promise<Server> {
    const s = await start;
    servers.push(s);
    return s;
}

async function connect(s: Server, setup?: (h: Handle) => void): Promise<Handle> {
    const h = new Handle();
    handles.push(h);
    setup?.(h);
    await h.connectUnix(s.socket);
    return h;
}

test("pwrite then pread returns the same bytes, into the caller's buffer", async () => {
    const s = await server(startNbdkit(bed.tmp.dir, ["memory", "16M"]));
    const h = await connect(s);
    assert.equal(h.getSize(), 16 * MiB);
    assert.equal(h.isReadOnly(), false);
    const data = crypto.randomBytes(MiB + 512);
    await h.pwrite(data, 3 * MiB + 512);
    const into = Buffer.alloc(data.length);
    const got = await h.pread(into, 3 * MiB + 512);
    assert.equal(got, into, "resolves with the caller's own buffer");
    assert.ok(into.equals(data));
    // A view into a larger ArrayBuffer is filled in place, not beside it.
    const backing = Buffer.alloc(3 * 4096, 0x55);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 4096, 4096);
    await h.pread(view, 3 * MiB + 512);
    assert.ok(Buffer.from(backing.subarray(4096, 8192)).equals(data.subarray(0, 4096)));
    assert.equal(backing[0], 0x55);
    assert.equal(backing[8192], 0x55);
    // FUA writes are accepted where the server supports them.
    if (h.canFua()) await h.pwrite(data.subarray(0, 4096), 0, CmdFlag.FUA);
});

test("64 concurrent reads on one handle return the right content", async () => {
    const size = 256 * MiB;
    const s = await server(startNbdkit(bed.tmp.dir, ["pattern", `size=${size}`]));
    const h = await connect(s);
    const reads: Promise<Buffer>[] = [];
    const offsets: number[] = [];
    for (let i = 0; i < 64; i++) {
        // Unaligned offsets and lengths, spread over the whole export.
        const offset = Math.floor((size - 200_000) * ((i * 37) % 64) / 64) + i * 13;
        offsets.push(offset);
        reads.push(h.pread(Buffer.alloc(65536 + i * 97), offset));
    }
    assert.equal(h.aioInFlight(), 64, "all 64 are in flight at once");
    const results = await Promise.all(reads);
    results.forEach((buf, i) => {
        assert.ok(buf.equals(patternBytes(offsets[i], buf.length)), `read ${i} at ${offsets[i]}`);
    });
    assert.equal(h.aioInFlight(), 0);
});

test("several handles (multi-conn) read one qemu-nbd export concurrently", async () => {
    const image = path.join(bed.tmp.dir, "multi.raw");
    const content = crypto.randomBytes(8 * MiB);
    fs.writeFileSync(image, content);
    const s = await server(startQemuNbd(bed.tmp.dir, ["-f", "raw", "-r", "-e", "4", image]));
    const hs = await Promise.all([0, 1, 2, 3].map(() => connect(s)));
    assert.equal(hs[0].canMultiConn(), true);
    const chunk = 256 * 1024;
    const out = Buffer.alloc(content.length);
    const jobs: Promise<unknown>[] = [];
    for (let off = 0, i = 0; off < content.length; off += chunk, i++) {
        jobs.push(hs[i % 4].pread(out.subarray(off, off + chunk), off));
    }
    await Promise.all(jobs);
    assert.ok(out.equals(content));
});

test("zero, trim and flush have their effect", async () => {
    const s = await server(startNbdkit(bed.tmp.dir, ["memory", "8M"]));
    const h = await connect(s, h => h.addMetaContext(CONTEXT_BASE_ALLOCATION));
    assert.equal(h.canZero(), true);
    assert.equal(h.canTrim(), true);
    assert.equal(h.canFlush(), true);
    const data = Buffer.alloc(2 * MiB, 0xee);
    await h.pwrite(data, 0);

    await h.zero(256 * 1024, 128 * 1024);
    const afterZero = await h.pread(Buffer.alloc(MiB), 0);
    assert.ok(afterZero.subarray(0, 128 * 1024).every(b => b === 0xee));
    assert.ok(afterZero.subarray(128 * 1024, 384 * 1024).every(b => b === 0));
    assert.ok(afterZero.subarray(384 * 1024).every(b => b === 0xee));

    // memory plugin: trim deallocates, so the range reads as zero and reports as a hole.
    await h.trim(MiB, MiB);
    const afterTrim = await h.pread(Buffer.alloc(MiB), MiB);
    assert.ok(afterTrim.every(b => b === 0));
    let flags = -1;
    await h.blockStatus(MiB, MiB, (_ctx, _off, entries) => { if (flags === -1) flags = entries[1]; });
    assert.equal(flags, STATE_HOLE | STATE_ZERO);

    // NO_HOLE zeroing leaves the range allocated (data) but reading zero.
    await h.pwrite(data.subarray(0, MiB), 4 * MiB);
    await h.zero(MiB, 4 * MiB, CmdFlag.NO_HOLE);
    assert.ok((await h.pread(Buffer.alloc(MiB), 4 * MiB)).every(b => b === 0));
    await h.flush();
});

test("flush makes writes visible in the image file behind qemu-nbd", async () => {
    const image = path.join(bed.tmp.dir, "flush.qcow2");
    run("qemu-img", ["create", "-q", "-f", "qcow2", image, "4M"]);
    const s = await server(startQemuNbd(bed.tmp.dir, ["-f", "qcow2", "--cache=writeback", image]));
    const h = await connect(s);
    const data = crypto.randomBytes(MiB);
    await h.pwrite(data, MiB);
    await h.flush();
    // Read the image through qemu-img while the server still runs (-U: no lock).
    const raw = path.join(bed.tmp.dir, "flush.raw");
    run("qemu-img", ["convert", "-U", "-f", "qcow2", "-O", "raw", image, raw]);
    const file = fs.readFileSync(raw);
    assert.ok(file.subarray(MiB, 2 * MiB).equals(data));
    assert.ok(file.subarray(0, MiB).every(b => b === 0));
});

test("connectUri and connectCommand reach a server", async () => {
    const s = await server(startNbdkit(bed.tmp.dir, ["pattern", "size=1M"]));
    const viaUri = new Handle();
    handles.push(viaUri);
    await viaUri.connectUri(s.uri);
    assert.ok((await viaUri.pread(Buffer.alloc(4096), 8192)).equals(patternBytes(8192, 4096)));

    const viaCommand = new Handle();
    handles.push(viaCommand);
    viaCommand.setHandleName("cmd-handle");
    assert.equal(viaCommand.getHandleName(), "cmd-handle");
    await viaCommand.connectCommand(["nbdkit", "-s", "--exit-with-parent", "pattern", "size=2M"]);
    assert.equal(viaCommand.getSize(), 2 * 1024 * 1024);
    assert.ok((await viaCommand.pread(Buffer.alloc(1000), 12345)).equals(patternBytes(12345, 1000)));
    await viaCommand.shutdown();
    viaCommand.close();
});

test("getBlockSize and shutdown", async () => {
    const image = path.join(bed.tmp.dir, "bs.qcow2");
    run("qemu-img", ["create", "-q", "-f", "qcow2", image, "1M"]);
    const s = await server(startQemuNbd(bed.tmp.dir, ["-f", "qcow2", image]));
    const h = await connect(s);
    const min = h.getBlockSize("minimum");
    const preferred = h.getBlockSize("preferred");
    const max = h.getBlockSize("maximum");
    assert.ok(min >= 1 && min <= preferred && preferred <= max, `${min} ${preferred} ${max}`);
    const pending = h.pread(Buffer.alloc(4096), 0);
    await h.shutdown();
    // The read submitted before shutdown still completes.
    assert.equal((await pending).length, 4096);
    await assert.rejects(h.pread(Buffer.alloc(1), 0), /closed|dead|state/i);
    h.close();
});

test("connectSystemdSocketActivation runs qemu-nbd for the handle's lifetime", async () => {
    const image = path.join(bed.tmp.dir, "activated.qcow2");
    run("qemu-img", ["create", "-q", "-f", "qcow2", image, "2M"]);
    const h = new Handle();
    handles.push(h);
    await h.connectSystemdSocketActivation(["qemu-nbd", "-f", "qcow2", image]);
    assert.equal(h.getSize(), 2 * MiB);
    const data = crypto.randomBytes(64 * 1024);
    await h.pwrite(data, 512 * 1024);
    await h.flush();
    await h.shutdown();
    h.close(); // libnbd stops the server and waits for it, releasing the image lock
    const raw = path.join(bed.tmp.dir, "activated.raw");
    run("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", image, raw]);
    assert.ok(fs.readFileSync(raw).subarray(512 * 1024, 576 * 1024).equals(data));
});
