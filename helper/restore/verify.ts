// SPDX-License-Identifier: GPL-3.0-or-later
// verify: what a restore would refuse, found without writing anything. A selection (a restore point,
// or --sequence) is checked by the very check restore runs first (check-point.ts: folder, VM identity,
// chain, frame structure), then each file of its chain by the data checks restore makes while it
// copies (check-content.ts: lz4 checksums, .chksum). Verify refuses exactly what restore refuses, with
// the same message. dump: each file's meta frame.
import path from "node:path";
import type { BackupLevel, StreamMeta } from "../format/index.ts";
import { compareFiles, selectChain, type BackupFile } from "./chain.ts";
import { checkContent, contentError, type ContentCheck } from "./check-content.ts";
import { checkPoint, structureProblem, type PointSelection, type StructureCache } from "./check-point.ts";
import { readBackupFolder, type BackupFolder } from "./folder.ts";
import { identOf, openBackupFolder } from "./plan.ts";

/** One file's verdict. */
export interface FileVerdict {
    file: string;
    dev: string;
    level: BackupLevel;
    /** Frame structure: "ok", "raw image" or the problem. */
    frames: string;
    /** "ok", "missing" (no .chksum), the problem, or "unread" when the structure failed. */
    checksum: string;
    /** Compressed files: "ok" when every lz4 frame decoded with its checksums, else the problem. */
    lz4?: string;
    /** What could not be checked for lack of a .chksum. */
    unchecked?: string;
    ok: boolean;
    /** The error a restore that uses the file fails with. */
    error?: string;
}

export interface SelectionVerdict {
    /** What a restore of the selection fails with; null when it restores. */
    reason: string | null;
    /** The files the restore reads, in restore order (a best guess when the chain itself is refused). */
    files: FileVerdict[];
}

/** Results kept across the selections of one verify run: each file is read once. */
export interface VerifyCache {
    structure: StructureCache;
    content: Map<string, Promise<ContentCheck>>;
}

export function newVerifyCache(): VerifyCache {
    return { structure: new Map(), content: new Map() };
}

export interface VerifyOptions {
    signal?: AbortSignal;
    /** Bytes read of a file, while it is checked. */
    onRead?: (file: string, bytesDone: number) => void;
    /** Before a file's checks. */
    onFile?: (file: string) => void;
}

/** When the chain is refused: the files its disks would most likely use, so that they are checked too. */
function likelyFiles(folder: BackupFolder, sel: PointSelection): BackupFile[] {
    if (sel.sequence) {
        const names = sel.sequence.map(s => path.basename(s));
        return names.map(n => folder.files.find(f => f.name === n)).filter((f): f is BackupFile => f !== undefined);
    }
    const devs = [...new Set(folder.files.map(f => f.dev))].filter(d => sel.disk === undefined || d === sel.disk).sort();
    const chosen: BackupFile[] = [];
    for (const dev of devs) {
        try {
            chosen.push(...selectChain(dev, folder.files, null, { until: sel.until }).members);
        } catch {
            const own = folder.files.find(f => f.dev === dev && (f.name === sel.until || identOf(f) === sel.until));
            if (own)
                chosen.push(own);
        }
    }
    return chosen;
}

interface Checked {
    verdict: FileVerdict;
    /** What stops a restore's copy of the file (unreadable structure, lz4, read error). */
    copyError?: string;
    /** What fails the restore after the copy (.chksum). */
    sumError?: string;
}

/** The checksum's verdict said briefly: ok, missing, "mismatch: ...", or the problem. */
function checksumText(file: string, c: ContentCheck): string {
    if (!c.checksumError)
        return c.checksum;
    const own = `${file}: checksum `;
    return c.checksumError.startsWith(own) ? c.checksumError.slice(own.length) : c.checksumError;
}

function verdictOf(f: { name: string; dev: string; level: BackupLevel }, file: string, frames: string, c: ContentCheck, raw: boolean): Checked {
    const base = { file: f.name, dev: f.dev, level: f.level };
    if (frames !== "ok") {
        // Unreadable frames: the checksum is all that was compared.
        return {
            verdict: { ...base, frames, checksum: checksumText(file, c), ok: false, error: frames },
            copyError: frames,
        };
    }
    const error = contentError(c);
    const verdict: FileVerdict = {
        ...base,
        frames: raw ? "raw image" : frames,
        checksum: checksumText(file, c),
        ...(c.lz4 || c.dataError ? { lz4: c.dataError ?? "ok" } : {}),
        ...(c.unchecked ? { unchecked: c.unchecked } : {}),
        ok: error === undefined,
        ...(error ? { error } : {}),
    };
    return { verdict, copyError: c.dataError, sumError: c.checksumError };
}

/** Verifies one selection (what `virtnbdrestore -u/--sequence/-d/-r` would restore). */
export async function verifySelection(folder: BackupFolder, sel: PointSelection, cache: VerifyCache = newVerifyCache(),
    opts: VerifyOptions = {}): Promise<SelectionVerdict> {
    let reason: string | null = null;
    let chains: BackupFile[][] = [];
    let rawImages: { dev: string; name: string }[] = [];
    try {
        const checked = await checkPoint(folder, sel, cache.structure);
        chains = checked.chains.map(c => c.members);
        rawImages = checked.rawImages;
    } catch (err) {
        reason = (err as Error).message;
        chains = [likelyFiles(folder, sel)];
    }
    const files: FileVerdict[] = [];
    const check = async (f: { name: string; dev: string; level: BackupLevel }, raw: boolean): Promise<Checked> => {
        const file = path.join(folder.dir, f.name);
        const structure = raw ? null : await structureProblem(file, cache.structure);
        opts.signal?.throwIfAborted();
        let content = cache.content.get(file);
        if (!content) {
            opts.onFile?.(f.name);
            // A file whose frames cannot be read still has its checksum compared: it tells damage from a bad reader.
            content = checkContent(file, { raw: raw || structure !== null, signal: opts.signal, onProgress: done => opts.onRead?.(f.name, done) });
            cache.content.set(file, content);
        }
        return verdictOf(f, file, structure?.message ?? "ok", await content, raw);
    };
    // A restore copies disk after disk, each disk's files in order (an lz4 or read error stops it
    // there), and awaits a disk's checksums after its copy; raw images come last. Its error is the
    // first disk's first copy error, else that disk's first checksum error.
    for (const members of [...chains, ...rawImages.map(r => [r])]) {
        let copyError: string | undefined;
        let sumError: string | undefined;
        for (const m of members) {
            const raw = !("meta" in m);
            const c = await check(raw ? { ...m, level: "copy" } : m as BackupFile, raw);
            if (!files.some(v => v.file === c.verdict.file))
                files.push(c.verdict);
            copyError ??= c.copyError;
            sumError ??= c.sumError;
        }
        reason ??= copyError ?? sumError ?? null;
    }
    return { reason, files };
}


/** A restore point verify could not pass, and why (a restore of it fails with the same message). */
export interface PointProblem {
    /** The point's name (checkpoint, diff time, copy), or "newest" for a restore without --until. */
    point: string;
    reason: string;
}

export interface VerifyResult {
    ok: boolean;
    /** Every file any checked selection reads (and unreadable data files), oldest first. */
    files: FileVerdict[];
    problems: PointProblem[];
    /** The one-line refusal: a restore's own message when one selection was checked. */
    message: string | null;
}

export interface VerifyRequest extends PointSelection {
    input: string;
}

function selected(dev: string, disk: string | undefined): boolean {
    return disk === undefined || dev === disk;
}

/**
 * `virtnbdrestore -a verify`: with --until or --sequence, exactly what that restore would check; without,
 * every restore point of the folder and the newest state (a restore without --until).
 */
export async function runVerify(req: VerifyRequest, opts: VerifyOptions & { onEntry?: (e: FileVerdict) => void } = {}): Promise<VerifyResult> {
    const folder = await openBackupFolder(req.input);
    const base: PointSelection = { disk: req.disk, raw: req.raw };
    const selections: { point: string; sel: PointSelection }[] = [];
    if (req.until !== undefined || req.sequence !== undefined) {
        selections.push({ point: req.until ?? "sequence", sel: { ...base, until: req.until, sequence: req.sequence } });
    } else {
        const seen = new Set<string>();
        for (const f of [...folder.files].sort(compareFiles).filter(f => selected(f.dev, req.disk))) {
            const point = identOf(f);
            if (!seen.has(point)) {
                seen.add(point);
                selections.push({ point, sel: { ...base, until: f.name } });
            }
        }
        selections.push({ point: "newest", sel: base });
    }
    const cache = newVerifyCache();
    const files: FileVerdict[] = [];
    const problems: PointProblem[] = [];
    for (const { point, sel } of selections) {
        const verdict = await verifySelection(folder, sel, cache, opts);
        for (const v of verdict.files) {
            if (!files.some(f => f.file === v.file)) {
                files.push(v);
                opts.onEntry?.(v);
            }
        }
        if (verdict.reason !== null)
            problems.push({ point, reason: verdict.reason });
    }
    const streamDevs = new Set(folder.files.map(f => f.dev));
    for (const u of folder.unreadable.filter(u => selected(u.dev, req.disk) && !files.some(f => f.file === u.name))) {
        const parsed = { file: u.name, dev: u.dev, level: (u.name.split(".")[1] ?? "full") as BackupLevel };
        // A raw image the restore leaves out without -r (it says so) is no refusal.
        const skippedRaw = u.headerless && !streamDevs.has(u.dev) && !req.raw;
        const v: FileVerdict = skippedRaw
            ? { ...parsed, frames: "raw image (restored with -r only)", checksum: "unread", ok: true }
            : { ...parsed, frames: u.error, checksum: "unread", ok: false, error: u.error };
        files.push(v);
        opts.onEntry?.(v);
    }
    const message = problems.length === 0 ? null
        : selections.length === 1 ? problems[0].reason
        : `${problems.length} of ${selections.length} restore points (counting the newest state) cannot be restored; ` +
          `first, ${problems[0].point}: ${problems[0].reason}`;
    return { ok: problems.length === 0, files, problems, message };
}

export async function runDump(input: string, opts: { disk?: string } = {}): Promise<{ file: string; meta?: StreamMeta; error?: string }[]> {
    const folder = await readBackupFolder(input);
    return [
        ...[...folder.files].sort(compareFiles).filter(f => selected(f.dev, opts.disk)).map(f => ({ file: f.name, meta: f.meta })),
        ...folder.unreadable.filter(u => selected(u.dev, opts.disk)).map(u => ({ file: u.name, error: u.error })),
    ];
}
