// SPDX-License-Identifier: GPL-3.0-or-later
// Byte compatibility with the real virtnbdbackup 1.9.15 (Debian package), both ways:
//  (a) stream files written by our StreamSink (with our domainUuid meta key) are restored by the real
//      tool's restore code (restoreSequence from /usr/bin/virtnbdrestore: qemu-img create, qemu-nbd, its
//      stream reader and lz4 decoder), and dumped by the real `virtnbdrestore -a dump` CLI;
//  (b) stream files written by the real tool's backupDisk (offline mode: it starts qemu-nbd itself on
//      a qcow2 image) are read back by our StreamSource, and our sink reproduces them byte for byte.
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Extent } from "../../helper/engine/endpoint.ts";
import { StreamSink, streamDataSize } from "../../helper/engine/stream-sink.ts";
import { StreamSource } from "../../helper/engine/stream-source.ts";
import { parseFrameHeader, parseTrailerJson, type StreamMeta } from "../../helper/format/index.ts";
import { run, runOk } from "../lib/exec.ts";
import { feedSink } from "../lib/feed-sink.ts";
import { metaFor } from "../unit/format/known-stream.ts";
import { testBed } from "../lib/test-bed.ts";

const PYTHON = "/usr/bin/python3";
const KiB = 1024;
const MiB = 1024 * KiB;
const MAX_REQUEST = 32 * MiB;

// Drives the real tool's own functions; argv: mode, then mode-specific arguments.
const DRIVER = String.raw`
import sys, logging, importlib.machinery, importlib.util
from argparse import Namespace
logging.basicConfig(level=logging.INFO, stream=sys.stderr)

def load(path, name):
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module

mode = sys.argv[1]
if mode == "backup":
    image, fmt, outdir, level, compress, socket = sys.argv[2:8]
    tool = load("/usr/bin/virtnbdbackup", "virtnbdbackup_tool")
    from libvirtnbdbackup import output
    from libvirtnbdbackup.virt.client import DomainDisk
    args = Namespace(level=level, compress=False if compress == "false" else int(compress), output=outdir,
                     offline=True, socketfile=socket, nbd_port=10809, nbd_ip="", type="stream", qemu=False,
                     noprogress=True, stdout=False, cpt=Namespace(name="virtnbdbackup.0", parent=""))
    disk = DomainDisk(target="vda", format=fmt, filename=image.rsplit("/", 1)[-1], path=image, backingstores=[])
    tool.backupDisk(args, disk, 0, output.target().Directory(outdir), Namespace(remoteHost=""))
elif mode == "restore":
    indir, outdir, sequence, socket = sys.argv[2:6]
    tool = load("/usr/bin/virtnbdrestore", "virtnbdrestore_tool")
    args = Namespace(input=indir, output=outdir, sequence=sequence, socketfile=socket, sshClient=None,
                     until=None, noprogress=True, nbd_ip="", disk=None)
    if not tool.restoreSequence(args, sequence.split(","), Namespace(remoteHost="")):
        sys.exit(3)
else:
    sys.exit("unknown mode " + mode)
`;

// No libvirt: qemu-nbd and the real tool's code on images in the work folder.
const bed = testBed({ name: "compat", libvirtd: false });
let dir = "";
const sockets: string[] = [];

bed.before(() => {
    dir = bed.work;
});

bed.onTeardown(() => {
    // qemu-nbd processes the real tool started for us (found by our unique socket paths) must not outlive the test.
    for (const pid of fs.readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
        let argv: string[];
        try {
            argv = fs.readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0");
        } catch {
            continue;
        }
        if (path.basename(argv[0] ?? "") === "qemu-nbd" && argv.some((a) => sockets.some((s) => a === s || a === `${s}.vda`))) {
            try {
                process.kill(Number(pid), "SIGTERM");
            } catch {
                // already gone
            }
        }
    }
});

function socketPath(name: string): string {
    const s = path.join(dir, name);
    sockets.push(s);
    return s;
}

async function python(args: string[]): Promise<void> {
    // TMPDIR: the real tool leaves qemu-nbd/qemu-img log files in the temp dir; keep them in ours.
    const r = await run(PYTHON, ["-c", DRIVER, ...args], { timeoutMs: 180_000, env: { TMPDIR: dir } });
    assert.equal(r.code, 0, `python ${args[0]} failed:\n${r.stderr.slice(-3000)}`);
}

/**
 * A 48 MiB disk: small extents, one extent longer than the 32 MiB max request size (the other tool
 * cuts it into lz4 frames and writes the list form of the trailer), random and compressible data.
 */
function makeDisk(): { disk: Buffer; extents: Extent[] } {
    const size = 48 * MiB;
    const data: [number, number][] = [[0, 64 * KiB], [1 * MiB, 4 * KiB], [2 * MiB, 36 * MiB + 8 * KiB], [40 * MiB, 1 * MiB]];
    const disk = Buffer.alloc(size);
    for (const [offset, length] of data) {
        crypto.randomFillSync(disk, offset, Math.floor(length / 2));
        disk.fill("virtnbdbackup compatible ", offset + Math.floor(length / 2), offset + length);
    }
    return { disk, extents: planFor(data, size) };
}

function planFor(data: [number, number][], size: number): Extent[] {
    const extents: Extent[] = [];
    let at = 0;
    for (const [offset, length] of data) {
        if (offset > at) extents.push({ offset: at, length: offset - at, data: false });
        extents.push({ offset, length, data: true });
        at = offset + length;
    }
    if (at < size) extents.push({ offset: at, length: size - at, data: false });
    return extents;
}



async function readWholeDisk(file: string): Promise<{ source: StreamSource; disk: Buffer }> {
    const source = await StreamSource.open(file);
    const disk = Buffer.alloc(source.size);
    for (const e of source.extents) {
        if (!e.data) continue;
        for (const chunk of source.split(e, 4 * MiB)) {
            (await source.read(chunk, Buffer.allocUnsafe(chunk.length))).copy(disk, chunk.offset);
        }
    }
    await source.close();
    return { source, disk };
}

function trailerOf(file: string): unknown[] {
    const bytes = fs.readFileSync(file);
    const comp = parseFrameHeader(bytes, bytes.length - 40);
    assert.equal(comp.kind, "comp");
    return parseTrailerJson(bytes.subarray(bytes.length - 42 - comp.length, bytes.length - 42));
}

for (const compress of [false, 2] as const) {
    test(`our ${compress ? "lz4" : "plain"} full + inc streams restore with the real virtnbdrestore code`, async () => {
        const { disk, extents } = makeDisk();
        // the incremental changes part of the long extent and adds data inside a former hole
        const changed: [number, number][] = [[3 * MiB, 5 * MiB], [44 * MiB, 12 * KiB]];
        const final = Buffer.from(disk);
        for (const [offset, length] of changed) crypto.randomFillSync(final, offset, length);
        const incExtents: Extent[] = changed.map(([offset, length]) => ({ offset, length, data: true }));

        const folder = fs.mkdtempSync(path.join(dir, "ours-"));
        // As our engine writes them: with the VM's UUID after the other tool's keys (its readers ignore it).
        const domainUuid = "3b0c1f9e-5d7a-4c2b-9e8f-0a1b2c3d4e5f";
        const full = await StreamSink.create(path.join(folder, "vda.full.data"), metaFor(extents, disk.length, { domainUuid }), { compress });
        await feedSink(full, extents, disk, MAX_REQUEST);
        const inc = await StreamSink.create(path.join(folder, "vda.inc.virtnbdbackup.1.data"),
            metaFor(incExtents, disk.length, { incremental: true, checkpointName: "virtnbdbackup.1", parentCheckpoint: "virtnbdbackup.0", domainUuid }),
            { compress });
        await feedSink(inc, incExtents, final, MAX_REQUEST);
        if (compress) {
            const trailer = trailerOf(path.join(folder, "vda.full.data"));
            assert.equal(trailer.length, 4);
            assert.equal((trailer[2] as { sizes: number[] }).sizes.length, 2, "36 MiB extent in two lz4 frames");
        }

        // the real CLI reads both meta frames
        const dump = await runOk("/usr/bin/virtnbdrestore", ["-a", "dump", "-i", folder, "-o", "dump", "-L", path.join(dir, `dump-${compress}.log`)]);
        const metas = JSON.parse(dump.stdout) as StreamMeta[];
        assert.deepEqual(metas.map((m) => m.checkpointName).sort(), ["virtnbdbackup.0", "virtnbdbackup.1"]);
        assert.deepEqual(metas.find((m) => m.checkpointName === "virtnbdbackup.0"), full.meta);
        assert.deepEqual(metas.find((m) => m.checkpointName === "virtnbdbackup.1"), inc.meta);
        assert.ok(metas.every((m) => m.domainUuid === domainUuid));

        // the real restore code applies full then inc into a new qcow2 through qemu-nbd
        const restored = fs.mkdtempSync(path.join(dir, "restored-"));
        await python(["restore", folder, restored, "vda.full.data,vda.inc.virtnbdbackup.1.data", socketPath(`r${compress}.sock`)]);
        const expected = path.join(dir, `expected-${compress}.raw`);
        fs.writeFileSync(expected, final);
        const cmp = await run("qemu-img", ["compare", "-U", "-f", "raw", "-F", "qcow2", expected, path.join(restored, "vda")]);
        assert.equal(cmp.code, 0, `qemu-img compare: ${cmp.stdout}${cmp.stderr}`);
        // and the restore really differs from the full alone (the inc was applied)
        assert.notDeepEqual(final.subarray(3 * MiB, 8 * MiB), disk.subarray(3 * MiB, 8 * MiB));
    });
}

test("streams written by the real virtnbdbackup are read by our source; our sink reproduces them", async () => {
    const { disk } = makeDisk();
    const raw = path.join(dir, "source.raw");
    fs.writeFileSync(raw, disk);
    const image = path.join(dir, "source.qcow2");
    await runOk("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, image]);

    for (const compress of [false, 2] as const) {
        const folder = fs.mkdtempSync(path.join(dir, "theirs-"));
        await python(["backup", image, "qcow2", folder, "full", String(compress), socketPath(`b${compress}.sock`)]);
        const file = path.join(folder, "vda.full.data");
        const { source, disk: read } = await readWholeDisk(file);
        assert.equal(source.meta.compressed, compress);
        assert.equal(source.meta.dataSize, streamDataSize(source.extents));
        assert.equal(source.extents.reduce((n, e) => n + e.length, 0), disk.length, "a full stream covers the disk");
        assert.ok(read.equals(disk), `bytes read from the real tool's ${compress ? "lz4" : "plain"} stream differ`);
        if (compress) {
            // the long extent is split where the real tool's lz4 frames end
            const long = source.extents.find((e) => e.data && e.length > MAX_REQUEST)!;
            assert.deepEqual(source.split(long, 4 * MiB).map((c) => c.length), [MAX_REQUEST, long.length - MAX_REQUEST]);
            assert.ok(trailerOf(file).some((e) => typeof e === "object"));
        } else {
            // same meta, same extents, same data: our sink writes the identical file
            const ours = path.join(folder, "ours.full.data");
            const sink = await StreamSink.create(ours, source.meta);
            await feedSink(sink, source.extents, disk, MAX_REQUEST);
            assert.ok(fs.readFileSync(ours).equals(fs.readFileSync(file)), "our stream differs from the real tool's");
        }
    }
});
