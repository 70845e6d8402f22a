// SPDX-License-Identifier: GPL-3.0-or-later
// Verify of one restore point for the page: the engine's verify of exactly the selection the page's
// restore of the point runs (`-u <a data file of the point> -r`), so it refuses what that restore
// refuses, with the same reason. Which files the progress counts is the engine's chain selection
// (chainOfPoint, pure); each file's verdict is said in the page's terms (fileVerdict, pure).
import fs from "node:fs";
import path from "node:path";
import { ChainError, compareFiles, selectChain, type BackupFile } from "../restore/chain.ts";
import { readBackupFolder } from "../restore/folder.ts";
import { newVerifyCache, verifySelection, type FileVerdict } from "../restore/verify.ts";
import { groupPoints } from "./restore-points.ts";
import type { RestorePoint, VerifyAnswer, VerifyFile, VerifyProgress } from "../protocol/job-types.ts";

export class UnknownPointError extends Error {
    override readonly name = "UnknownPointError";
}

/**
 * The files that restore `point`, disk by disk, in restore order. A chain the engine refuses (gap,
 * foreign file) is reported as a problem and its disk falls back to the point's own file, so that the
 * files that are there are still checked.
 */
export function chainOfPoint(files: BackupFile[], point: RestorePoint, checkpoints: string[] | null): { files: BackupFile[]; problems: string[] } {
    const chosen: BackupFile[] = [];
    const problems: string[] = [];
    for (const disk of point.disks) {
        try {
            // The point's own data file name selects exactly this point on this disk.
            chosen.push(...selectChain(disk.dev, files, checkpoints, { until: disk.file }).members);
        } catch (err) {
            if (!(err instanceof ChainError))
                throw err;
            problems.push(`${disk.dev}: ${err.message}`);
            const own = files.find(f => f.name === disk.file);
            if (own)
                chosen.push(own);
        }
    }
    return { files: chosen.sort((a, b) => compareFiles(a, b) || a.dev.localeCompare(b.dev)), problems };
}

/** One file's verdict in the page's terms: ok, no-checksum (with what went unchecked), mismatch, damaged. */
export function fileVerdict(v: FileVerdict): Pick<VerifyFile, "status" | "detail"> {
    // A checksum that differs says more than the frame or lz4 problem it explains.
    if (v.checksum !== "ok" && v.checksum !== "missing" && v.checksum !== "unread")
        return { status: "mismatch", detail: v.checksum };
    if (!v.ok)
        return { status: "damaged", detail: v.error ?? v.frames };
    if (v.checksum === "ok")
        return { status: "ok" };
    return { status: "no-checksum", ...(v.unchecked ? { detail: v.unchecked } : {}) };
}

/** Progress within a file is reported at most this often: after this many bytes or this much time. */
export const PROGRESS_BYTES = 64 * 1024 * 1024;
export const PROGRESS_MS = 250;

/**
 * Decides whether a progress line is due: a big file's sum takes seconds, so the page hears of it in
 * between, but not of every 8 MiB block (each line is a message through the cockpit bridge).
 */
export function progressThrottle(now: () => number = Date.now): (done: number) => boolean {
    let lastDone = 0;
    let lastAt = now();
    return done => {
        const at = now();
        if (done - lastDone < PROGRESS_BYTES && at - lastAt < PROGRESS_MS)
            return false;
        lastDone = done;
        lastAt = at;
        return true;
    };
}

export async function verifyPoint(folder: string, vmName: string, pointName: string,
    onProgress: (p: VerifyProgress) => void = () => {}): Promise<VerifyAnswer> {
    if (!fs.existsSync(folder))
        throw new UnknownPointError(`the backup folder ${folder} does not exist`);
    const scanned = await readBackupFolder(folder);
    const sizes = new Map(scanned.files.map(f => [f.name, fs.statSync(path.join(folder, f.name)).size]));
    const point = groupPoints({ files: scanned.files, sizes, partials: scanned.partials, unreadable: scanned.unreadable })
        .find(p => p.name === pointName);
    if (!point)
        throw new UnknownPointError(`${pointName} is not a restore point in ${folder}`);
    const list = scanned.checkpointLists.find(l => l.vm === vmName) ?? scanned.checkpointLists[0];
    // The files the progress counts; the verdict is the engine's.
    const planned = chainOfPoint(scanned.files, point, list?.checkpoints ?? null).files;
    const total = planned.reduce((n, f) => n + (sizes.get(f.name) ?? 0), 0);
    let done = 0;
    let index = -1;
    let current: string | null = null;
    const due = progressThrottle();
    const report = (bytes: number) => onProgress({ event: "progress", file: current, index: Math.max(index, 0), count: planned.length, done: bytes, total });
    const verdict = await verifySelection(scanned, { until: point.disks[0]?.file ?? point.name, raw: true }, newVerifyCache(), {
        onFile: name => {
            if (current !== null)
                done += sizes.get(current) ?? 0;
            current = name;
            index++;
            report(done);
        },
        onRead: (_name, fileDone) => {
            if (due(done + fileDone))
                report(done + fileDone);
        },
    });
    if (current !== null)
        done += sizes.get(current) ?? 0;
    // Oldest first across disks, as the page lists points (the engine checks disk by disk).
    const rank = (name: string) => {
        const i = planned.findIndex(f => f.name === name);
        return i < 0 ? planned.length : i;
    };
    const files = [...verdict.files].sort((a, b) => rank(a.file) - rank(b.file)).map(v => ({
        file: v.file, dev: v.dev, level: v.level, size: sizes.get(v.file) ?? fileSize(folder, v.file), ...fileVerdict(v),
    }));
    onProgress({ event: "progress", file: null, index: files.length, count: files.length, done, total: Math.max(total, done) });
    const ok = verdict.reason === null && files.length > 0;
    return { point: point.name, folder, ok, files, problems: verdict.reason === null ? [] : [verdict.reason] };
}

function fileSize(folder: string, name: string): number {
    try {
        return fs.statSync(path.join(folder, name)).size;
    } catch {
        return 0;
    }
}
