// SPDX-License-Identifier: GPL-3.0-or-later
// What the VM list shows of each VM's backups: the last backup (from the history), the job running now,
// the next scheduled run, the newest restore point and the backup folder's size. Read cheaply, in this
// process (no child process per VM): a settings file, the newest history records, one listing of the
// folder and its chain subfolders with a stat per file.
import fs from "node:fs";
import path from "node:path";
import { parseDataFileName } from "../format/index.ts";
import { listChains } from "./chains.ts";
import { lastRecordOf } from "./history.ts";
import { nextRun } from "./next-run.ts";
import { readSettings } from "./settings.ts";
import { currentJob } from "./status.ts";
import type { VmBackupOverview } from "../protocol/job-types.ts";

/** Sum of the regular files' sizes in the folder and its chain subfolders (one level, symlinks not followed). */
function folderSize(folder: string): number | null {
    let entries: fs.Dirent[];
    try {
        entries = fs.readdirSync(folder, { withFileTypes: true });
    } catch {
        return null;
    }
    let total = 0;
    for (const e of entries) {
        if (e.isFile())
            total += fs.lstatSync(path.join(folder, e.name), { throwIfNoEntry: false })?.size ?? 0;
        else if (e.isDirectory() && /^chain-\d+$/.test(e.name))
            total += folderSize(path.join(folder, e.name)) ?? 0;
    }
    return total;
}

function newestPoint(folder: string): VmBackupOverview["newestPoint"] {
    const chain = listChains(folder).at(-1);
    if (!chain)
        return null;
    let best: { date: number; level: string; chain: string } | null = null;
    for (const name of fs.readdirSync(chain.folder)) {
        const parsed = parseDataFileName(name);
        if (!parsed)
            continue;
        const st = fs.lstatSync(path.join(chain.folder, name), { throwIfNoEntry: false });
        if (st?.isFile() && (!best || st.mtimeMs > best.date))
            best = { date: st.mtimeMs, level: parsed.level, chain: chain.name };
    }
    return best;
}

export function vmOverview(uuid: string, name: string, now = new Date()): VmBackupOverview {
    const overview: VmBackupOverview = { lastBackup: null, job: null, nextRun: null, newestPoint: null, totalSize: null };
    const problems: string[] = [];
    try {
        const last = lastRecordOf(uuid, "backup");
        if (last)
            overview.lastBackup = { at: last.endedAt ?? last.startedAt, result: last.result, scheduled: last.kind === "scheduled", ...(last.error ? { error: last.error } : {}) };
    } catch (err) {
        problems.push((err as Error).message);
    }
    try {
        const job = currentJob(uuid, now.getTime());
        if (job?.state === "running")
            overview.job = { kind: job.kind, state: job.queuedSince !== undefined ? "queued" : "running" };
    } catch (err) {
        problems.push((err as Error).message);
    }
    try {
        const settings = readSettings(uuid, name);
        overview.nextRun = nextRun(settings.schedule, now);
        overview.totalSize = folderSize(settings.folder);
        if (overview.totalSize !== null)
            overview.newestPoint = newestPoint(settings.folder);
    } catch (err) {
        problems.push((err as Error).message);
    }
    if (problems.length > 0)
        overview.problem = problems.join("; ");
    return overview;
}
