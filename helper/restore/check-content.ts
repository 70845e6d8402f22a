// SPDX-License-Identifier: GPL-3.0-or-later
// The data's own checks of one backup file, as verify makes them: each lz4 frame decoded (which checks
// its block and content checksums and its size) and the whole file's adler32 compared with `.chksum`.
// Restore sums every file beside its copy (or takes the sum its header scan made, when that read all of a
// fragmented file); its copy decodes (and so checks) every frame it uses, and a
// file whose sum matches holds exactly the frames that were written, so the frames no copy uses are decoded
// only when the sum cannot vouch for them (no .chksum, or a mismatch: then the messages are verify's).
// The frame structure is check-point.ts's.
import { StreamSource } from "../engine/stream-source.ts";
import { checkChecksum, checksumProblem, compareChecksum, type ChecksumResult } from "./checksum.ts";

export interface ContentCheck {
    /** ok: the .chksum matches; missing: there is none (the other tool's 1.9 writes none); failed: see checksumError. */
    checksum: "ok" | "missing" | "failed";
    checksumError?: string;
    /** Every lz4 frame decoded with its checksums (false for an uncompressed file or a raw image). */
    lz4: boolean;
    /** Why decoding (or reading) the data failed: what a restore's copy fails with. */
    dataError?: string;
    /** What the format leaves unchecked without a .chksum; undefined when everything was checked. */
    unchecked?: string;
}

/** What a file's checks could not cover, said per file (pure). */
export function uncheckedPart(checksum: ContentCheck["checksum"], kind: "plain" | "lz4" | "raw"): string | undefined {
    if (checksum !== "missing")
        return undefined;
    switch (kind) {
    case "lz4": return "no checksum file: frame structure and lz4 content checksums checked, nothing else to compare with";
    case "plain": return "no checksum file: data content not verifiable, only the frame structure was checked";
    case "raw": return "no checksum file: a raw image has no structure to check, its content is not verifiable";
    }
}

/** The error a restore that uses this file fails with, in the order a restore meets them; undefined when none. */
export function contentError(c: ContentCheck): string | undefined {
    return c.dataError ?? c.checksumError;
}

/** The file's checksum check; `source` (the file open, scanned) may know its sum already, as its scan read all of it. */
async function sumOf(file: string, signal: AbortSignal, onProgress: (done: number) => void, source?: StreamSource): Promise<Pick<ContentCheck, "checksum" | "checksumError">> {
    let r: ChecksumResult;
    try {
        const known = source?.scannedSum;
        r = known === undefined ? await checkChecksum(file, { signal, onProgress }) : await compareChecksum(file, async () => {
            onProgress(source!.fileSize);
            return known;
        });
    } catch (err) {
        if (signal.aborted)
            throw err;
        return { checksum: "failed", checksumError: (err as Error).message };
    }
    const problem = checksumProblem(file, r);
    return problem ? { checksum: "failed", checksumError: problem } : { checksum: r.status === "ok" ? "ok" : "missing" };
}

/** Runs the lz4 decodes of several checks one after another (each holds buffers of up to its largest frame). */
export class DecodeQueue {
    private last: Promise<unknown> = Promise.resolve();

    run<T>(decode: () => Promise<T>): Promise<T> {
        const turn = this.last.then(decode);
        this.last = turn.catch(() => {});
        return turn;
    }
}

export interface ContentCheckOptions {
    raw?: boolean;
    signal?: AbortSignal;
    onProgress?: (bytesDone: number) => void;
    /** The file, already open (its structure scanned once, by its owner, who also closes it). */
    source?: StreamSource;
    /** "always" (verify; default): every lz4 frame decoded beside the sum. */
    frames?: "always" | "unless-summed";
    /** Where the frames' decode waits its turn (default: at once). */
    decodeQueue?: DecodeQueue;
}

/**
 * Checks the content of `file`: a stream whose structure check-point.ts found sound, or (`raw`) a raw
 * image. Reads the file once for the checksum and, when compressed, its lz4 frames once more beside it
 * (from the page cache). With `frames: "unless-summed"` (a restore, whose copy decodes the frames it uses)
 * the frames are decoded only when the checksum is missing or wrong, and the sum of a file whose scan
 * read every byte (`source.scannedSum`) is not read again. Throws only when cancelled.
 */
export async function checkContent(file: string, opts: ContentCheckOptions = {}): Promise<ContentCheck> {
    const queued = (check: () => Promise<ContentCheck>) => opts.decodeQueue ? opts.decodeQueue.run(check) : check();
    if (opts.frames === "unless-summed" && !opts.raw) {
        const summed = await sumOf(file, opts.signal ?? new AbortController().signal, done => opts.onProgress?.(done), opts.source);
        if (summed.checksum === "ok")
            return { checksum: "ok", lz4: false };
        // Without a sum to vouch for them the frames are all there is to check; with a wrong one they tell
        // what is wrong, as verify says it.
        return queued(() => checkFrames(file, opts, summed));
    }
    return queued(() => checkFrames(file, opts));
}

/** The sum (unless `summed` is already known) and, for a compressed stream, every frame decoded beside it. */
async function checkFrames(file: string, opts: ContentCheckOptions, summed?: Awaited<ReturnType<typeof sumOf>>): Promise<ContentCheck> {
    const { signal, onProgress } = opts;
    const sumAbort = new AbortController();
    const onAbort = () => sumAbort.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort);
    let sumDone = 0;
    let decoded = 0;
    const report = () => onProgress?.(Math.max(sumDone, decoded));
    const sum = summed ? Promise.resolve(summed) : sumOf(file, sumAbort.signal, done => { sumDone = done; report(); });
    sum.catch(() => {});
    let source: StreamSource | undefined;
    try {
        let dataError: string | undefined;
        let lz4 = false;
        if (!opts.raw) {
            try {
                source = opts.source ?? await StreamSource.open(file);
                lz4 = source.compressed;
                if (source.compressed) {
                    // One lz4 frame at a time: decoded, checked and dropped.
                    const scale = source.fileSize / Math.max(1, source.meta.dataSize);
                    // Every frame is decoded into this one buffer (its largest frame fits).
                    const scratch = Buffer.allocUnsafe(source.largestFixedChunk);
                    for (const extent of source.extents.filter(e => e.data)) {
                        for (const chunk of source.split(extent, extent.length)) {
                            signal?.throwIfAborted();
                            const data = await source.read(chunk, scratch);
                            decoded += data.length * scale;
                            report();
                        }
                    }
                }
            } catch (err) {
                signal?.throwIfAborted();
                dataError = (err as Error).message;
            }
        }
        const checked = await sum;
        const kind = opts.raw ? "raw" : lz4 ? "lz4" : "plain";
        return { ...checked, lz4: lz4 && dataError === undefined, ...(dataError !== undefined ? { dataError } : {}), unchecked: uncheckedPart(checked.checksum, kind) };
    } catch (err) {
        sumAbort.abort();
        await sum.catch(() => {});
        throw err;
    } finally {
        signal?.removeEventListener("abort", onAbort);
        if (source !== opts.source)
            await source?.close();
    }
}
