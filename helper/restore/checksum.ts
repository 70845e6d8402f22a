// SPDX-License-Identifier: GPL-3.0-or-later
// `<datafile>.chksum`: zlib adler32 of the whole data file as decimal text. The real virtnbdbackup 1.9
// writes none; newer versions and our engine do.
import fsp from "node:fs/promises";
import { Adler32 } from "../engine/adler32.ts";
import { checksumFileName } from "../format/index.ts";
import { alignedBuffer } from "fileio-node";

// 2 MiB per read: a restore sums every member beside its copy, so this is held once per member.
const BLOCK = 2 * 1024 * 1024;

export interface ChecksumReadOptions {
    signal?: AbortSignal;
    /** Called after each block read, with the bytes summed so far (last call: the file's size). */
    onProgress?: (bytesDone: number) => void;
}

/** An AbortSignal (the older form) or options. */
export type ChecksumReadArg = AbortSignal | ChecksumReadOptions | undefined;

function readOptions(arg: ChecksumReadArg): ChecksumReadOptions {
    return arg instanceof AbortSignal ? { signal: arg } : arg ?? {};
}

/** adler32 of a whole file, read sequentially. */
export async function fileAdler32(file: string, options?: ChecksumReadArg): Promise<number> {
    const { signal, onProgress } = readOptions(options);
    const fh = await fsp.open(file, "r");
    try {
        const sum = new Adler32();
        const buf = alignedBuffer(BLOCK);
        let position = 0;
        for (;;) {
            signal?.throwIfAborted();
            const { bytesRead } = await fh.read(buf, 0, BLOCK, position);
            if (bytesRead === 0)
                break;
            sum.update(buf.subarray(0, bytesRead));
            position += bytesRead;
            onProgress?.(position);
        }
        return sum.digest();
    } finally {
        await fh.close();
    }
}

export type ChecksumResult =
    | { status: "ok"; value: number }
    | { status: "missing" }
    | { status: "mismatch"; expected: string; actual: number }
    | { status: "invalid"; text: string };

/** Compares a data file with its .chksum file. */
export function checkChecksum(file: string, options?: ChecksumReadArg): Promise<ChecksumResult> {
    return compareChecksum(file, () => fileAdler32(file, options));
}

/** Compares the adler32 of a data file's bytes, which `sumOfFile` gives (read only when a checksum file exists), with its .chksum file. */
export async function compareChecksum(file: string, sumOfFile: () => Promise<number>): Promise<ChecksumResult> {
    let text: string;
    try {
        text = (await fsp.readFile(checksumFileName(file), "utf8")).trim();
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT")
            return { status: "missing" };
        throw err;
    }
    if (!/^\d+$/.test(text))
        return { status: "invalid", text: text.slice(0, 40) };
    const actual = await sumOfFile();
    return String(actual) === String(Number(text)) ? { status: "ok", value: actual } : { status: "mismatch", expected: text, actual };
}

/** The refusal a checksum result means (restore and verify say the same); undefined for ok and missing. */
export function checksumProblem(file: string, r: ChecksumResult): string | undefined {
    if (r.status === "mismatch")
        return `${file}: checksum mismatch: ${checksumFileName(file)} says ${r.expected}, the file sums to ${r.actual}`;
    if (r.status === "invalid")
        return `${checksumFileName(file)}: not an adler32 checksum: ${JSON.stringify(r.text)}`;
    return undefined;
}

/** Throws when a checksum file exists and does not match; a missing one is allowed. */
export async function requireChecksum(file: string, options?: ChecksumReadArg): Promise<ChecksumResult> {
    const r = await checkChecksum(file, options);
    const problem = checksumProblem(file, r);
    if (problem)
        throw new Error(problem);
    return r;
}
