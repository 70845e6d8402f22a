// SPDX-License-Identifier: GPL-3.0-or-later
// Which files a restore point's verify checks (helper/jobs/verify-point.ts chainOfPoint) and how one
// file's frame check and checksum become its verdict.
import { it } from "node:test";
import assert from "node:assert/strict";
import type { BackupFile } from "../../../helper/restore/chain.ts";
import { chainOfPoint, fileVerdict, PROGRESS_BYTES, PROGRESS_MS, progressThrottle } from "../../../helper/jobs/verify-point.ts";
import { groupPoints } from "../../../helper/jobs/restore-points.ts";
import type { StreamMeta } from "../../../helper/format/index.ts";
import type { FileVerdict } from "../../../helper/restore/verify.ts";

function file(name: string, dev: string, level: BackupFile["level"], ident: string | null, checkpoint: string, parent: string, date: string): BackupFile {
    const meta: StreamMeta = {
        virtualSize: 1 << 30, dataSize: 1000, date, diskName: dev, diskFormat: "qcow2", checkpointName: checkpoint,
        compressed: false, compressionMethod: "lz4", parentCheckpoint: parent,
        incremental: level === "inc" || level === "diff", streamVersion: 2,
    };
    return { name, dev, level, ident, meta };
}

const FULL_A = file("vda.full.data", "vda", "full", null, "virtnbdbackup.0", "", "2026-01-01T10:00:00.000000");
const FULL_B = file("vdb.full.data", "vdb", "full", null, "virtnbdbackup.0", "", "2026-01-01T10:00:00.000000");
const INC1_A = file("vda.inc.virtnbdbackup.1.data", "vda", "inc", "virtnbdbackup.1", "virtnbdbackup.1", "virtnbdbackup.0", "2026-01-02T10:00:00.000000");
const INC1_B = file("vdb.inc.virtnbdbackup.1.data", "vdb", "inc", "virtnbdbackup.1", "virtnbdbackup.1", "virtnbdbackup.0", "2026-01-02T10:00:00.000000");
const DIFF_A = file("vda.diff.1767434400.data", "vda", "diff", "1767434400", "virtnbdbackup.2", "virtnbdbackup.1", "2026-01-03T10:00:00.000000");
const INC2_A = file("vda.inc.virtnbdbackup.2.data", "vda", "inc", "virtnbdbackup.2", "virtnbdbackup.2", "virtnbdbackup.1", "2026-01-04T10:00:00.000000");
const INC2_B = file("vdb.inc.virtnbdbackup.2.data", "vdb", "inc", "virtnbdbackup.2", "virtnbdbackup.2", "virtnbdbackup.1", "2026-01-04T10:00:00.000000");
const ALL = [INC2_B, DIFF_A, FULL_B, INC1_A, FULL_A, INC2_A, INC1_B];
const CHECKPOINTS = ["virtnbdbackup.0", "virtnbdbackup.1", "virtnbdbackup.2"];

function points() {
    return groupPoints({ files: ALL, sizes: new Map(), partials: [], unreadable: [] });
}

function chainNames(pointName: string, files = ALL): { files: string[]; problems: string[] } {
    const point = points().find(p => p.name === pointName)!;
    const chain = chainOfPoint(files, point, CHECKPOINTS);
    return { files: chain.files.map(f => f.name), problems: chain.problems };
}

it("checks the point's chain up to and including it, on every disk, and nothing after it", () => {
    assert.deepEqual(chainNames("virtnbdbackup.0"), { files: ["vda.full.data", "vdb.full.data"], problems: [] });
    assert.deepEqual(chainNames("virtnbdbackup.1"), {
        files: ["vda.full.data", "vdb.full.data", "vda.inc.virtnbdbackup.1.data", "vdb.inc.virtnbdbackup.1.data"], problems: [],
    });
    // A differential point: the full, the incs before it, the diff itself; not the later inc.
    assert.deepEqual(chainNames("1767434400"), {
        files: ["vda.full.data", "vda.inc.virtnbdbackup.1.data", "vda.diff.1767434400.data"], problems: [],
    });
    // The newest point skips the superseded diff.
    assert.deepEqual(chainNames("virtnbdbackup.2").files, [
        "vda.full.data", "vdb.full.data", "vda.inc.virtnbdbackup.1.data", "vdb.inc.virtnbdbackup.1.data",
        "vda.inc.virtnbdbackup.2.data", "vdb.inc.virtnbdbackup.2.data",
    ]);
});

it("reports a broken chain and still checks the point's own files", () => {
    const withoutInc1 = ALL.filter(f => f !== INC1_A);
    const got = chainNames("virtnbdbackup.2", withoutInc1);
    assert.equal(got.problems.length, 1);
    assert.match(got.problems[0], /^vda: .*chain gap/);
    assert.ok(got.files.includes("vda.inc.virtnbdbackup.2.data"));
    assert.ok(got.files.includes("vdb.inc.virtnbdbackup.1.data"));
});

it("turns the engine's verdict of a file into the page's status", () => {
    const v = (over: Partial<FileVerdict>): FileVerdict => ({ file: "vda.full.data", dev: "vda", level: "full", frames: "ok", checksum: "ok", ok: true, ...over });
    assert.deepEqual(fileVerdict(v({})), { status: "ok" });
    // Without a .chksum the page says what could not be checked.
    assert.deepEqual(fileVerdict(v({ checksum: "missing", unchecked: "no checksum file: data content not verifiable" })),
                     { status: "no-checksum", detail: "no checksum file: data content not verifiable" });
    const mismatch = v({ checksum: "mismatch: vda.full.data.chksum says 5, the file sums to 6", ok: false, error: "x" });
    assert.deepEqual(fileVerdict(mismatch), { status: "mismatch", detail: "mismatch: vda.full.data.chksum says 5, the file sums to 6" });
    // A checksum mismatch says more than the frame problem it causes.
    assert.equal(fileVerdict({ ...mismatch, frames: "bad frame at 100", error: "bad frame at 100" }).status, "mismatch");
    assert.deepEqual(fileVerdict(v({ frames: "bad frame at 100", checksum: "missing", ok: false, error: "bad frame at 100" })),
                     { status: "damaged", detail: "bad frame at 100" });
    assert.deepEqual(fileVerdict(v({ lz4: "lz4 frame does not decompress", checksum: "missing", ok: false, error: "f: lz4 frame does not decompress" })),
                     { status: "damaged", detail: "f: lz4 frame does not decompress" });
});

it("lets a progress line through after 64 MiB or 250 ms since the last one, whichever comes first", () => {
    let now = 1000;
    const due = progressThrottle(() => now);
    const block = 8 * 1024 * 1024;
    // Fast reads: only every 64 MiB.
    const passed: number[] = [];
    for (let done = block; done <= 20 * block; done += block) {
        now += 10;
        if (due(done))
            passed.push(done / block);
    }
    assert.equal(PROGRESS_BYTES, 8 * block);
    assert.deepEqual(passed, [8, 16]);
    // Slow reads: on time, even with few bytes (the last line was at block 16, 40 ms ago).
    now += PROGRESS_MS - 41;
    assert.equal(due(16 * block + 1), false);
    now += 1;
    assert.equal(due(16 * block + 2), true);
    assert.equal(due(16 * block + 3), false);
});
