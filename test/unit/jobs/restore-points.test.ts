// SPDX-License-Identifier: GPL-3.0-or-later
// Data files of a backup folder grouped into restore points (helper/jobs/restore-points.ts).
import { it } from "node:test";
import assert from "node:assert/strict";
import type { BackupFile } from "../../../helper/restore/chain.ts";
import { groupPoints } from "../../../helper/jobs/restore-points.ts";
import type { StreamMeta } from "../../../helper/format/index.ts";

function file(name: string, dev: string, level: BackupFile["level"], ident: string | null, checkpoint: string, date: string, compressed: false | number = false): BackupFile {
    const meta: StreamMeta = {
        virtualSize: 1 << 30, dataSize: 1000, date, diskName: dev, diskFormat: "qcow2", checkpointName: checkpoint,
        compressed, compressionMethod: "lz4", parentCheckpoint: level === "full" || level === "copy" ? "" : "virtnbdbackup.0",
        incremental: level === "inc" || level === "diff", streamVersion: 2,
    };
    return { name, dev, level, ident, meta };
}

const FULL_A = file("vda.full.data", "vda", "full", null, "virtnbdbackup.0", "2026-01-01T10:00:00.000000");
const FULL_B = file("vdb.full.data", "vdb", "full", null, "virtnbdbackup.0", "2026-01-01T10:00:00.000000", 2);
const INC_A = file("vda.inc.virtnbdbackup.1.data", "vda", "inc", "virtnbdbackup.1", "virtnbdbackup.1", "2026-01-02T10:00:00.000000");
const INC_B = file("vdb.inc.virtnbdbackup.1.data", "vdb", "inc", "virtnbdbackup.1", "virtnbdbackup.1", "2026-01-02T10:00:00.000000");
const DIFF_A = file("vda.diff.1767434400.data", "vda", "diff", "1767434400", "virtnbdbackup.2", "2026-01-03T10:00:00.000000");

it("groups the disks of each checkpoint, differential and copy, oldest first", () => {
    const sizes = new Map([["vda.full.data", 1100], ["vdb.full.data", 600]]);
    const points = groupPoints({ files: [INC_B, DIFF_A, FULL_B, INC_A, FULL_A], sizes, partials: [], unreadable: [] });
    assert.deepEqual(points.map(p => [p.name, p.level]), [["virtnbdbackup.0", "full"], ["virtnbdbackup.1", "inc"], ["1767434400", "diff"]]);
    assert.deepEqual(points[0].disks, [
        { dev: "vda", file: "vda.full.data", dataSize: 1000, fileSize: 1100, compressed: false },
        { dev: "vdb", file: "vdb.full.data", dataSize: 1000, fileSize: 600, compressed: true },
    ]);
    assert.equal(points[0].date, "2026-01-01T10:00:00.000000");
    assert.deepEqual(points.map(p => p.complete), [true, true, false], "the diff lacks vdb");
});

it("marks a point with an unfinished or unreadable file as incomplete", () => {
    const points = groupPoints({
        files: [FULL_A, FULL_B, INC_A], sizes: new Map(),
        partials: ["vdb.inc.virtnbdbackup.1.data.partial"], unreadable: [],
    });
    assert.deepEqual(points.map(p => [p.name, p.complete]), [["virtnbdbackup.0", true], ["virtnbdbackup.1", false]]);
    const unreadable = groupPoints({ files: [FULL_A], sizes: new Map(), partials: [], unreadable: [{ name: "vdb.full.data", dev: "vdb" }] });
    assert.equal(unreadable[0].complete, false);
});

it("an empty folder has no points", () => {
    assert.deepEqual(groupPoints({ files: [], sizes: new Map(), partials: [], unreadable: [] }), []);
});
