// SPDX-License-Identifier: GPL-3.0-or-later
// The helper client's checks of the backup commands' answers and of the job state file.
import { it } from "node:test";
import assert from "node:assert/strict";
import {
    HelperError, parseCancelAnswer, parseJobStatus, parsePointsPreview, parsePruneAnswer, parseRestorePoints, parseSettingsAnswer, parseStartAnswer,
} from "../../../src/helper-answer.ts";

const JOB = {
    id: "j1", kind: "backup", domain: "vm1", uuid: "u", level: "auto", plannedLevel: "full", folder: "/srv/b", compress: false,
    state: "running", pid: 12, runnerPid: 11, startedAt: 1, updatedAt: 2, disks: [{ dev: "vda", done: 1, total: 2, startedAt: 1 }], warnings: [],
};

function unexpected(fn: () => unknown, pattern: RegExp) {
    assert.throws(fn, (e: unknown) => e instanceof HelperError && e.kind === "unexpected" && pattern.test(e.detail));
}

it("accepts well-formed answers", () => {
    const settings = { domain: "vm1", uuid: "u", folder: "/srv/b", compress: true, schedule: { frequency: "off", weekday: 0, time: "02:00" }, isDefault: false, statusFile: "/run/x.json", scheduler: "missing" };
    assert.deepEqual(parseSettingsAnswer(JSON.stringify(settings)), settings);
    assert.deepEqual(parseStartAnswer('{"id":"j1","statusFile":"/run/x.json"}'), { id: "j1", statusFile: "/run/x.json" });
    assert.deepEqual(parseCancelAnswer('{"id":"j1","pid":null}'), { id: "j1", pid: null });
    assert.deepEqual(parseJobStatus('{"state":"none"}'), { state: "none" });
    assert.equal((parseJobStatus(JSON.stringify(JOB)) as { id: string }).id, "j1");
    const points = {
        folder: "/srv/b", exists: true, empty: false, totalSize: 10, chainLength: 1, problems: [],
        points: [{ name: "virtnbdbackup.0", level: "full", date: "d", complete: true, disks: [{ dev: "vda", file: "vda.full.data", dataSize: 1, fileSize: 2, compressed: false }] }],
    };
    assert.equal(parseRestorePoints(JSON.stringify(points)).points[0].name, "virtnbdbackup.0");
});

it("names the first field that is wrong", () => {
    unexpected(() => parseJobStatus(JSON.stringify({ ...JOB, state: "paused" })), /job\.state/);
    unexpected(() => parseJobStatus(JSON.stringify({ ...JOB, disks: [{ dev: "vda", done: "1", total: 2 }] })), /job\.disks\[0\]\.done/);
    unexpected(() => parseJobStatus(JSON.stringify({ ...JOB, plannedLevel: "auto" })), /plannedLevel/);
    unexpected(() => parseJobStatus(JSON.stringify({ ...JOB, message: 3 })), /message/);
    unexpected(() => parseJobStatus("{half"), /not JSON/);
    unexpected(() => parseSettingsAnswer('{"domain":"vm1"}'), /settings\.uuid/);
    unexpected(() => parseRestorePoints('{"folder":"/b","exists":true,"empty":true,"totalSize":0,"chainLength":0,"points":[{}],"problems":[]}'), /points\.points\[0\]\.name/);
    unexpected(() => parseCancelAnswer('{"id":"j1"}'), /cancel\.pid/);
});

it("reads what a preview leaves alone because something reads it (prune --skip-in-use), and refuses a wrong shape", () => {
    const prune = { folder: "/srv/b", keep: 1, dryRun: true, freed: 0, removed: [], kept: ["", "chain-1"], skipped: [{ chain: "", reason: "virtnbdmap (process 7) reads the chain in the folder itself" }] };
    assert.deepEqual(parsePruneAnswer(JSON.stringify(prune)).skipped, prune.skipped);
    assert.equal(parsePruneAnswer(JSON.stringify({ ...prune, skipped: undefined })).skipped, undefined);
    unexpected(() => parsePruneAnswer(JSON.stringify({ ...prune, skipped: [{ chain: "" }] })), /prune\.skipped\[0\]\.reason/);
    const points = { points: [{ chain: "chain-1", dropped: [], freed: 0, skipped: ["virtnbdmap (process 7) reads the points up to virtnbdbackup.2 of chain-1"] }] };
    assert.deepEqual(parsePointsPreview(JSON.stringify(points)).points[0].skipped, points.points[0].skipped);
    unexpected(() => parsePointsPreview(JSON.stringify({ points: [{ ...points.points[0], skipped: [3] }] })), /skipped\[0\]/);
});
