// SPDX-License-Identifier: GPL-3.0-or-later
// The history store in a temporary folder: records, capped logs, a run whose process died ends as failed,
// the last MAX_RECORDS kept; and the pure rules beside it (records from job states, next run, queue setting).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { HistoryRun, MAX_LOG_BYTES, MAX_RECORDS, newRunId, readHistory, readRunLog } from "../../../helper/jobs/history.ts";
import { jobEnd, jobStart, parseRecord, UNEXPECTED_END } from "../../../helper/jobs/history-record.ts";
import { nextRun } from "../../../helper/jobs/next-run.ts";
import { defaultMaxBackupJobs, parseMaxBackupJobs } from "../../../helper/jobs/host-settings.ts";
import type { BackupJobState } from "../../../helper/protocol/job-types.ts";

const UUID = "0f0e0d0c-0b0a-0908-0706-050403020100";

function tempDir(): string {
    return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-history-")), "history");
}

describe("history store", () => {
    test("a run's record and log; private folder and files", () => {
        const dir = tempDir();
        const run = HistoryRun.open(UUID, { id: newRunId(), type: "verify", kind: "manual", startedAt: 1000 }, dir);
        run.log("checked vda.full.data");
        assert.equal(readHistory(UUID, dir)[0]!.result, "running", "its log is held: it runs");
        run.end({ result: "ok", endedAt: 2000, bytes: 5 });
        const [r] = readHistory(UUID, dir);
        assert.deepEqual({ result: r!.result, bytes: r!.bytes, endedAt: r!.endedAt }, { result: "ok", bytes: 5, endedAt: 2000 });
        assert.equal(readRunLog(UUID, run.id, dir), "checked vda.full.data\n");
        assert.equal(fs.statSync(path.join(dir, UUID)).mode & 0o777, 0o700);
        for (const f of fs.readdirSync(path.join(dir, UUID)))
            assert.equal(fs.statSync(path.join(dir, UUID, f)).mode & 0o777, 0o600);
        assert.throws(() => readRunLog(UUID, "mxc00000-00000000", dir), /no run/);
        assert.throws(() => readRunLog(UUID, "../x", dir), /invalid run id/);
    });

    test("the log is capped", () => {
        const dir = tempDir();
        const run = HistoryRun.open(UUID, { id: newRunId(), type: "backup", kind: "scheduled", startedAt: 1 }, dir);
        for (let i = 0; i < 10_000; i++)
            run.log("x".repeat(100));
        run.end({ result: "ok", endedAt: 2 });
        const text = readRunLog(UUID, run.id, dir);
        assert.ok(text.length <= MAX_LOG_BYTES + 200, String(text.length));
        assert.match(text, /the log is cut here/);
    });

    test("a run whose process was killed (SIGKILL) is read as failed, ended unexpectedly", () => {
        const dir = tempDir();
        const id = newRunId();
        const script = `import { HistoryRun } from ${JSON.stringify(path.resolve("helper/jobs/history.ts"))};
            HistoryRun.open(${JSON.stringify(UUID)}, { id: ${JSON.stringify(id)}, type: "backup", kind: "manual", startedAt: 5 }, ${JSON.stringify(dir)});
            process.kill(process.pid, "SIGKILL");`;
        const file = path.join(path.dirname(dir), "killed.ts");
        fs.writeFileSync(file, script);
        const child = spawnSync(process.execPath, ["--import", "tsx", file]);
        assert.equal(child.signal, "SIGKILL", child.stderr.toString());
        const [r] = readHistory(UUID, dir, undefined, 99);
        assert.equal(r!.id, id);
        assert.equal(r!.result, "failed");
        assert.equal(r!.error, UNEXPECTED_END);
        assert.equal(r!.endedAt, 99);
        assert.equal(readHistory(UUID, dir)[0]!.endedAt, 99, "written: read again, it stays as it was settled");
    });

    test(`keeps the last ${MAX_RECORDS} runs`, () => {
        const dir = tempDir();
        for (let i = 0; i < MAX_RECORDS + 3; i++)
            HistoryRun.open(UUID, { id: newRunId(1_700_000_000_000 + i), type: "prune", kind: "manual", startedAt: i }, dir).end({ result: "ok", endedAt: i });
        const records = readHistory(UUID, dir, 1000);
        assert.equal(records.length, MAX_RECORDS);
        assert.equal(records[0]!.startedAt, MAX_RECORDS + 2, "newest first");
        assert.equal(records.at(-1)!.startedAt, 3);
        assert.equal(fs.readdirSync(path.join(dir, UUID)).length, 2 * MAX_RECORDS);
    });

    test("records that are not ours are skipped", () => {
        assert.equal(parseRecord({ id: "../x", type: "backup", kind: "manual", startedAt: 1, result: "ok", warnings: [] }), null);
        assert.equal(parseRecord({ id: "mxc00000-00000000", type: "shell", kind: "manual", startedAt: 1, result: "ok", warnings: [] }), null);
        assert.notEqual(parseRecord({ id: "mxc00000-00000000", type: "backup", kind: "manual", startedAt: 1, result: "ok", warnings: [] }), null);
    });
});

describe("records of page jobs", () => {
    const job: BackupJobState = {
        id: "mxc00000-00000000", kind: "backup", domain: "vm", uuid: UUID, level: "auto", folder: "/b", compress: false, scheduled: true,
        state: "succeeded", pid: 1, runnerPid: 2, startedAt: 1000, updatedAt: 9000, finishedAt: 9000, disks: [], warnings: ["w"],
        result: { domain: "vm", level: "inc", checkpoint: "virtnbdbackup.4", parent: "virtnbdbackup.3", files: [], seconds: 3,
                  disks: [{ dev: "vda", file: "f", dataBytes: 10, fileBytes: 12 }, { dev: "vdb", file: "g", dataBytes: 5, fileBytes: 6 }] },
    };
    test("start and end of a scheduled backup that warned, after waiting for a slot", () => {
        assert.deepEqual(jobStart(job), { id: job.id, type: "backup", kind: "scheduled", startedAt: 1000, level: "auto" });
        const end = jobEnd(job, 9500, { since: 4000, queuedAt: 1500 });
        assert.deepEqual(end, { result: "warnings", endedAt: 9000, warnings: ["w"], seconds: 5, queuedSeconds: 2.5, level: "inc", bytes: 15, point: "virtnbdbackup.4" });
    });
    test("failed and cancelled keep the reason", () => {
        assert.equal(jobEnd({ ...job, state: "failed", message: "disk gone", result: undefined }, 9500, undefined).error, "disk gone");
        assert.equal(jobEnd({ ...job, state: "cancelled", message: "cancelled", result: undefined }, 9500, undefined).result, "cancelled");
    });
});

describe("next scheduled run", () => {
    test("daily: today when still ahead, else tomorrow; weekly: on its weekday; off: none", () => {
        const now = new Date(2026, 11, 6, 10, 0);  // a Sunday
        assert.equal(nextRun({ frequency: "daily", weekday: 0, time: "10:30" }, now), new Date(2026, 11, 6, 10, 30).getTime());
        assert.equal(nextRun({ frequency: "daily", weekday: 0, time: "10:00" }, now), new Date(2026, 11, 7, 10, 0).getTime());
        assert.equal(nextRun({ frequency: "weekly", weekday: 3, time: "02:00" }, now), new Date(2026, 11, 9, 2, 0).getTime());
        assert.equal(nextRun({ frequency: "weekly", weekday: 0, time: "09:00" }, now), new Date(2026, 11, 13, 9, 0).getTime());
        assert.equal(nextRun({ frequency: "off", weekday: 0, time: "09:00" }, now), null);
    });
});

describe("backup jobs at once", () => {
    test("1 to 64, whole numbers; the default follows the cores", () => {
        assert.equal(parseMaxBackupJobs("4", "x"), 4);
        assert.equal(parseMaxBackupJobs(64, "x"), 64);
        for (const bad of ["0", "65", "-1", "1.5", "", "x", 2.5, null, "1e3"])
            assert.throws(() => parseMaxBackupJobs(bad, "x"), /backup jobs at once/, String(bad));
        assert.equal(defaultMaxBackupJobs(1), 2);
        assert.equal(defaultMaxBackupJobs(2), 4);
        assert.equal(defaultMaxBackupJobs(3), 6);
        assert.equal(defaultMaxBackupJobs(8), 8);
        assert.equal(defaultMaxBackupJobs(128), 8);
    });
});
