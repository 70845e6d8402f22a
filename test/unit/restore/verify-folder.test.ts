// SPDX-License-Identifier: GPL-3.0-or-later
// Verify over small stream files written by our sink (no VM, no qemu): what it refuses and with which
// reason, in the order a restore meets the problems, and what it says it could not check.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Extent } from "../../../helper/engine/endpoint.ts";
import { StreamSink } from "../../../helper/engine/stream-sink.ts";
import { FRAME_HEADER_LENGTH, parseFrameHeader } from "../../../helper/format/index.ts";
import { readBackupFolder } from "../../../helper/restore/folder.ts";
import { runVerify, verifySelection } from "../../../helper/restore/verify.ts";
import { feedSink } from "../../lib/feed-sink.ts";
import { metaFor } from "../format/known-stream.ts";

const KiB = 1024;
const SIZE = 1024 * KiB;
const UUID = "6f1c2d3e-0000-4000-8000-00000000000a";
let root: string;
let serial = 0;

before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-verify-`));
});
after(() => {
    fs.rmSync(root, { recursive: true, force: true });
});

async function writeFile(file: string, extents: Extent[], disk: Buffer, n: number): Promise<void> {
    const meta = metaFor(extents, SIZE, n === 0
        ? { domainUuid: UUID, compressed: 2 }
        : { domainUuid: UUID, compressed: 2, incremental: true, checkpointName: `virtnbdbackup.${n}`, parentCheckpoint: `virtnbdbackup.${n - 1}` });
    // Dates in the order the backups were made.
    meta.date = `2026-01-01T10:0${n}:00`;
    await feedSink(await StreamSink.create(file, meta, { compress: 2 }), extents, disk);
}

/** A folder: lz4 full + inc 1 + inc 2 of vm1, with .chksum files and the checkpoint list. */
async function folder(): Promise<string> {
    const dir = path.join(root, `f${++serial}`);
    fs.mkdirSync(dir);
    const disk = crypto.randomBytes(SIZE);
    await writeFile(path.join(dir, "vda.full.data"), [{ offset: 0, length: 64 * KiB, data: true }, { offset: 64 * KiB, length: SIZE - 64 * KiB, data: false }], disk, 0);
    for (const n of [1, 2])
        await writeFile(path.join(dir, `vda.inc.virtnbdbackup.${n}.data`), [{ offset: n * 128 * KiB, length: 32 * KiB, data: true }], disk, n);
    fs.writeFileSync(path.join(dir, "vm1.cpt"), JSON.stringify(["virtnbdbackup.0", "virtnbdbackup.1", "virtnbdbackup.2"]));
    return dir;
}

/** Offset of the first data payload of a stream file. */
function payloadAt(file: string): number {
    const buf = fs.readFileSync(file);
    const meta = parseFrameHeader(buf, 0);
    let at = FRAME_HEADER_LENGTH + meta.length + 2;
    while (parseFrameHeader(buf, at).kind !== "data")
        at += FRAME_HEADER_LENGTH;
    return at + FRAME_HEADER_LENGTH;
}

function flip(file: string, at: number): void {
    const buf = fs.readFileSync(file);
    buf[at] ^= 0x10;
    fs.writeFileSync(file, buf);
}

test("an intact folder verifies: every lz4 frame decoded, every checksum compared", async () => {
    const dir = await folder();
    const v = await verifySelection(await readBackupFolder(dir), {});
    assert.equal(v.reason, null);
    assert.deepEqual(v.files.map(f => [f.file, f.checksum, f.lz4, f.ok, f.unchecked]), [
        ["vda.full.data", "ok", "ok", true, undefined],
        ["vda.inc.virtnbdbackup.1.data", "ok", "ok", true, undefined],
        ["vda.inc.virtnbdbackup.2.data", "ok", "ok", true, undefined],
    ]);
});

test("the reason is the one a restore meets first: a disk's lz4 error before any checksum mismatch", async () => {
    const dir = await folder();
    const full = path.join(dir, "vda.full.data");
    // Two problems: inc 1's .chksum, and an lz4 frame of the full. A restore's copy stops at the latter;
    // the checksums are awaited only after the copy.
    fs.writeFileSync(path.join(dir, "vda.inc.virtnbdbackup.1.data.chksum"), "12345");
    flip(full, payloadAt(full) + 30);
    const v = await verifySelection(await readBackupFolder(dir), {});
    assert.match(v.reason!, /vda\.full\.data: at byte \d+: lz4 frame does not decompress/);
    assert.ok(v.reason!.startsWith(full));
    const inc1 = v.files.find(f => f.file === "vda.inc.virtnbdbackup.1.data")!;
    assert.match(inc1.checksum, /^mismatch: .*chksum says 12345, the file sums to \d+$/);
    assert.equal(inc1.lz4, "ok");
    // The full alone: the same lz4 error; inc 1 alone is not in that selection.
    assert.equal((await verifySelection(await readBackupFolder(dir), { until: "virtnbdbackup.0" })).reason, v.reason);
});

test("without .chksum files each file says what could not be checked, and damage the lz4 checksums catch is still refused", async () => {
    const dir = await folder();
    for (const n of fs.readdirSync(dir).filter(n => n.endsWith(".chksum")))
        fs.rmSync(path.join(dir, n));
    const v = await verifySelection(await readBackupFolder(dir), {});
    assert.equal(v.reason, null);
    assert.ok(v.files.every(f => f.checksum === "missing" && /^no checksum file: frame structure and lz4 content checksums checked/.test(f.unchecked ?? "")));
    const inc2 = path.join(dir, "vda.inc.virtnbdbackup.2.data");
    flip(inc2, payloadAt(inc2) + 20);
    assert.match((await verifySelection(await readBackupFolder(dir), {})).reason!, /vda\.inc\.virtnbdbackup\.2\.data: at byte \d+: lz4 frame/);
});

test("a folder verify checks every point and the newest state; a deleted middle inc is a gap for the points after it", async () => {
    const dir = await folder();
    fs.rmSync(path.join(dir, "vda.inc.virtnbdbackup.1.data"));
    fs.rmSync(path.join(dir, "vda.inc.virtnbdbackup.1.data.chksum"));
    const v = await runVerify({ input: dir });
    assert.equal(v.ok, false);
    assert.deepEqual(v.problems.map(p => p.point), ["virtnbdbackup.2", "newest"]);
    assert.ok(v.problems.every(p => /vda\.inc\.virtnbdbackup\.2\.data: chain gap: it continues from checkpoint virtnbdbackup\.1/.test(p.reason)));
    assert.match(v.message!, /^2 of 3 restore points \(counting the newest state\) cannot be restored; first, virtnbdbackup\.2: /);
    // The point before the gap verifies, and says so alone.
    const first = await runVerify({ input: dir, until: "virtnbdbackup.0" });
    assert.deepEqual([first.ok, first.message, first.files.map(f => f.file)], [true, null, ["vda.full.data"]]);
});

test("another VM's file is refused through its UUID", async () => {
    const dir = await folder();
    const other = await folder();
    // Same names, same sizes, same dates: the other folder's inc 2, rewritten as of another VM.
    const file = path.join(other, "vda.inc.virtnbdbackup.2.data");
    const text = fs.readFileSync(file).toString("latin1").replace(UUID, UUID.replace(/a$/, "b"));
    fs.writeFileSync(path.join(dir, "vda.inc.virtnbdbackup.2.data"), Buffer.from(text, "latin1"));
    fs.rmSync(path.join(dir, "vda.inc.virtnbdbackup.2.data.chksum"));
    const v = await runVerify({ input: dir, until: "virtnbdbackup.2" });
    assert.equal(v.message, `vda.inc.virtnbdbackup.2.data: made of the VM with UUID ${UUID.replace(/a$/, "b")}, but ` +
        `vda.full.data of the VM with UUID ${UUID}: the chain mixes files of two VMs`);
});
