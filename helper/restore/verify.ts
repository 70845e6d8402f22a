// verify: every data file's frames parsed (StreamSource checks the whole structure and dataSize) and
// its adler32 compared with `.chksum`; dump: each file's meta frame.
import path from "node:path";
import { StreamSource } from "../engine/stream-source.ts";
import type { StreamMeta } from "../format/index.ts";
import { checkChecksum } from "./checksum.ts";
import { compareFiles } from "./chain.ts";
import { readBackupFolder } from "./folder.ts";

export interface VerifyEntry {
    file: string;
    /** Frame structure: "ok" or the problem. */
    frames: string;
    /** "ok", "missing" (no .chksum), "mismatch", "invalid", or "unread" when the frames failed. */
    checksum: string;
    ok: boolean;
}

function selected(dev: string, disk: string | undefined): boolean {
    return disk === undefined || dev === disk;
}

export async function runVerify(input: string, opts: { disk?: string; signal?: AbortSignal; onEntry?: (e: VerifyEntry) => void } = {}): Promise<VerifyEntry[]> {
    const folder = await readBackupFolder(input);
    const entries: VerifyEntry[] = [];
    const names = [
        ...[...folder.files].sort(compareFiles).filter(f => selected(f.dev, opts.disk)).map(f => f.name),
        ...folder.unreadable.filter(u => selected(u.dev, opts.disk)).map(u => u.name),
    ];
    for (const name of names) {
        opts.signal?.throwIfAborted();
        const file = path.join(input, name);
        let frames = "ok";
        try {
            const source = await StreamSource.open(file);
            await source.close();
        } catch (err) {
            frames = (err as Error).message;
        }
        let checksum: string;
        try {
            const r = await checkChecksum(file, opts.signal);
            checksum = r.status === "mismatch" ? `mismatch: .chksum says ${r.expected}, file sums to ${r.actual}` : r.status;
        } catch (err) {
            checksum = `unreadable: ${(err as Error).message}`;
        }
        const entry = { file: name, frames, checksum, ok: frames === "ok" && (checksum === "ok" || checksum === "missing") };
        entries.push(entry);
        opts.onEntry?.(entry);
    }
    return entries;
}

export async function runDump(input: string, opts: { disk?: string } = {}): Promise<{ file: string; meta?: StreamMeta; error?: string }[]> {
    const folder = await readBackupFolder(input);
    return [
        ...[...folder.files].sort(compareFiles).filter(f => selected(f.dev, opts.disk)).map(f => ({ file: f.name, meta: f.meta })),
        ...folder.unreadable.filter(u => selected(u.dev, opts.disk)).map(u => ({ file: u.name, error: u.error })),
    ];
}
