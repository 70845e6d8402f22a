// SPDX-License-Identifier: GPL-3.0-or-later
// Block status as libnbd reports it, checked against qemu-img's layout and nbdinfo --map.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import {
    Handle, BlockStatusFlag, CmdFlag, CONTEXT_BASE_ALLOCATION, dirtyBitmapContext,
} from "libnbd-node";
import {
    useTestBed, startQemuNbd, run, nbdinfoMap, mergeMap, type MapEntry,
} from "./servers.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZE = 64 * MiB;
const bed = useTestBed();
const { servers, handles } = bed;

interface Reply { metaContext: string; offset: number; entries: number[] }

/** Every callback invocation, for the whole export, as delivered. */
async function collect(h: Handle, size: number): Promise<Reply[]> {
    const replies: Reply[] = [];
    let offset = 0;
    while (offset < size) {
        let reached = offset;
        await h.blockStatus(size - offset, offset, (metaContext, off, entries) => {
            replies.push({ metaContext, offset: off, entries });
            let end = off;
            for (let i = 0; i < entries.length; i += 2) end += entries[i];
            if (metaContext === CONTEXT_BASE_ALLOCATION || reached === offset) reached = Math.max(reached, end);
        });
        assert.ok(reached > offset, "the server made progress");
        offset = reached;
    }
    return replies;
}

function mapOf(replies: Reply[], context: string, size: number): MapEntry[] {
    const map: MapEntry[] = [];
    let expected = 0;
    for (const r of replies.filter(x => x.metaContext === context)) {
        assert.equal(r.entries.length % 2, 0, "entries are (length, flags) pairs");
        let pos = r.offset;
        for (let i = 0; i < r.entries.length; i += 2) {
            const length = Math.min(r.entries[i], size - pos);
            if (length <= 0) break;
            map.push({ offset: pos, length, type: r.entries[i + 1] });
            pos += r.entries[i];
        }
        assert.ok(r.offset <= expected, `replies for ${context} are contiguous`);
        expected = Math.max(expected, pos);
    }
    return mergeMap(map.filter(e => e.offset >= 0));
}

function typeAt(map: MapEntry[], offset: number): number {
    const e = map.find(x => x.offset <= offset && offset < x.offset + x.length);
    assert.ok(e, `offset ${offset} is covered`);
    return e.type;
}

test("base:allocation of a sparse qcow2 shows data, zero and holes, as nbdinfo --map does", async () => {
    const image = path.join(bed.tmp.dir, "sparse.qcow2");
    // Metadata preallocation makes unwritten clusters "zero" (allocated); a discarded range
    // becomes a hole; two ranges hold data.
    run("qemu-img", ["create", "-q", "-f", "qcow2", "-o", "preallocation=metadata", image, String(SIZE)]);
    run("qemu-io", ["-f", "qcow2", "-c", "write -P 0xaa 0 64k", "-c", "write -P 0xbb 4M 1M",
        "-c", "discard 8M 16M", "-c", "write -P 0xcc 40M 128k", image]);
    const s = await startQemuNbd(bed.tmp.dir, ["-r", "--shared=4", "-f", "qcow2", image]);
    servers.push(s);

    const h = new Handle();
    handles.push(h);
    h.addMetaContext(CONTEXT_BASE_ALLOCATION);
    await h.connectUri(s.uri);
    assert.equal(h.canMetaContext(CONTEXT_BASE_ALLOCATION), true);

    const replies = await collect(h, SIZE);
    assert.ok(replies.length > 0);
    for (const r of replies) {
        assert.equal(r.metaContext, CONTEXT_BASE_ALLOCATION);
        assert.ok(r.entries.every(n => Number.isInteger(n) && n >= 0));
    }
    const ours = mapOf(replies, CONTEXT_BASE_ALLOCATION, SIZE);
    assert.deepEqual(ours, mergeMap(nbdinfoMap(s.uri)));

    const { HOLE, ZERO } = BlockStatusFlag;
    assert.equal(typeAt(ours, 0), 0, "written: data");
    assert.equal(typeAt(ours, 4 * MiB + 100), 0);
    assert.equal(typeAt(ours, 40 * MiB), 0);
    assert.equal(typeAt(ours, 2 * MiB), ZERO, "preallocated, unwritten: zero");
    assert.equal(typeAt(ours, 10 * MiB), HOLE | ZERO, "discarded: hole");
    assert.equal(typeAt(ours, 60 * MiB), ZERO);

    // REQ_ONE: a single extent per context.
    let calls = 0;
    await h.blockStatus(SIZE, 0, (_ctx, off, entries) => {
        calls++;
        assert.equal(off, 0);
        assert.equal(entries.length, 2);
        assert.deepEqual([entries[0], entries[1]], [64 * KiB, 0]);
    }, CmdFlag.REQ_ONE);
    assert.equal(calls, 1);
});

test("qemu:dirty-bitmap from qemu-nbd --bitmap marks exactly the blocks written after the bitmap", async () => {
    const image = path.join(bed.tmp.dir, "dirty.qcow2");
    run("qemu-img", ["create", "-q", "-f", "qcow2", image, String(SIZE)]);
    run("qemu-io", ["-f", "qcow2", "-c", "write -P 0x11 20M 1M", image]); // before the bitmap: clean
    run("qemu-img", ["bitmap", "--add", image, "vnbt-bm0"]);
    run("qemu-io", ["-f", "qcow2", "-c", "write -P 0x22 1M 64k", "-c", "write -P 0x33 10M 192k", image]);
    const s = await startQemuNbd(bed.tmp.dir, ["-r", "--shared=4", "-f", "qcow2", "--bitmap=vnbt-bm0", image]);
    servers.push(s);

    const context = dirtyBitmapContext("vnbt-bm0");
    assert.equal(context, "qemu:dirty-bitmap:vnbt-bm0");
    const h = new Handle();
    handles.push(h);
    h.addMetaContext(CONTEXT_BASE_ALLOCATION);
    h.addMetaContext(context);
    await h.connectUnix(s.socket);
    assert.equal(h.canMetaContext(context), true);
    assert.equal(h.canMetaContext("qemu:dirty-bitmap:no-such"), false);

    const replies = await collect(h, SIZE);
    assert.ok(replies.some(r => r.metaContext === context));
    assert.ok(replies.some(r => r.metaContext === CONTEXT_BASE_ALLOCATION), "both contexts in one reply");
    const dirty = mapOf(replies, context, SIZE);
    const { DIRTY } = BlockStatusFlag;
    assert.deepEqual(dirty.filter(e => e.type & DIRTY).map(e => [e.offset, e.length]),
        [[1 * MiB, 64 * KiB], [10 * MiB, 192 * KiB]]);
    assert.deepEqual(dirty, mergeMap(nbdinfoMap(s.uri, context)));
});

test("an exception in the callback rejects blockStatus, and later calls still work", async () => {
    const image = path.join(bed.tmp.dir, "cb.qcow2");
    run("qemu-img", ["create", "-q", "-f", "qcow2", image, "4M"]);
    const s = await startQemuNbd(bed.tmp.dir, ["-r", "--shared=4", "-f", "qcow2", image]);
    servers.push(s);
    const h = new Handle();
    handles.push(h);
    h.addMetaContext(CONTEXT_BASE_ALLOCATION);
    await h.connectUnix(s.socket);
    const boom = new Error("vnbt callback failure");
    await assert.rejects(h.blockStatus(4 * MiB, 0, () => { throw boom; }), e => e === boom);
    let seen = 0;
    await h.blockStatus(4 * MiB, 0, () => { seen++; });
    assert.equal(seen, 1);
});
