// Verify of one restore point for the page: every data file the point's restore needs (its chain, from
// the full up to and including the point) is parsed frame by frame and compared with its .chksum.
// Which files those are is decided by the restore engine's own chain selection (chainOfPoint, pure);
// reading and summing use the engine's StreamSource and checkChecksum.
import fs from "node:fs";
import path from "node:path";
import { StreamSource } from "../engine/stream-source.ts";
import { ChainError, compareFiles, selectChain, type BackupFile } from "../restore/chain.ts";
import { checkChecksum } from "../restore/checksum.ts";
import { readBackupFolder } from "../restore/folder.ts";
import { groupPoints } from "./restore-points.ts";
import type { RestorePoint, VerifyAnswer, VerifyFile, VerifyProgress } from "./types.ts";

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

/** One file's verdict from its frame check and checksum comparison. */
export function fileVerdict(frames: string, checksum: Awaited<ReturnType<typeof checkChecksum>> | { status: "unreadable"; error: string }): Pick<VerifyFile, "status" | "detail"> {
    if (checksum.status === "mismatch")
        return { status: "mismatch", detail: `the .chksum file says ${checksum.expected}, the file sums to ${checksum.actual}` };
    if (checksum.status === "invalid")
        return { status: "mismatch", detail: `the .chksum file does not hold a checksum: ${JSON.stringify(checksum.text)}` };
    if (checksum.status === "unreadable")
        return { status: "damaged", detail: checksum.error };
    if (frames !== "ok")
        return { status: "damaged", detail: frames };
    return checksum.status === "ok" ? { status: "ok" } : { status: "no-checksum" };
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
    const chain = chainOfPoint(scanned.files, point, list?.checkpoints ?? null);
    if (!point.complete)
        chain.problems.push(`${point.name} is incomplete: a disk's file is unfinished, unreadable or missing`);

    const total = chain.files.reduce((n, f) => n + (sizes.get(f.name) ?? 0), 0);
    const results: VerifyFile[] = [];
    let done = 0;
    const due = progressThrottle();
    for (const [i, f] of chain.files.entries()) {
        const report = (bytes: number) => onProgress({ event: "progress", file: f.name, index: i, count: chain.files.length, done: bytes, total });
        report(done);
        const file = path.join(folder, f.name);
        let frames = "ok";
        try {
            await (await StreamSource.open(file)).close();
        } catch (err) {
            frames = (err as Error).message;
        }
        let sum: Awaited<ReturnType<typeof checkChecksum>> | { status: "unreadable"; error: string };
        try {
            sum = await checkChecksum(file, {
                onProgress: fileDone => {
                    if (due(done + fileDone))
                        report(done + fileDone);
                },
            });
        } catch (err) {
            sum = { status: "unreadable", error: (err as Error).message };
        }
        results.push({ file: f.name, dev: f.dev, level: f.level, size: sizes.get(f.name) ?? 0, ...fileVerdict(frames, sum) });
        done += sizes.get(f.name) ?? 0;
    }
    onProgress({ event: "progress", file: null, index: chain.files.length, count: chain.files.length, done, total });
    const ok = chain.problems.length === 0 && results.length > 0 && results.every(r => r.status === "ok" || r.status === "no-checksum");
    return { point: point.name, folder, ok, files: results, problems: chain.problems };
}
