// SPDX-License-Identifier: GPL-3.0-or-later
// One output file of a sink (a stream file, a raw image): written as "<file>.partial" with positioned
// writes that go to disk behind the writer, fsynced, and only then published under its final name,
// which is never allowed to replace an existing file. Discarding removes the partial file.
import fsp from "node:fs/promises";
import path from "node:path";
import { writeSummed } from "fileio-node";
import { partialFileName } from "../format/index.ts";
import { WriteBehind } from "./write-behind.ts";
import { createFreshHandle } from "../fs/safe-open.ts";

type State = "open" | "closed" | "published" | "discarded";

/** Told of every completed write: the bytes [position, end) of the partial file are written. */
export type WrittenListener = (position: number, end: number) => void;

export interface OutputFileOptions {
    /** Written pages stay in the page cache (a caller that reads the file back at once). */
    keepCached?: boolean;
    onWritten?: WrittenListener;
}

export class OutputFile {
    private state: State = "open";
    private readonly behind: WriteBehind;

    private constructor(readonly file: string, readonly partialFile: string, private readonly fh: fsp.FileHandle,
                        keepCached: boolean, private readonly onWritten?: WrittenListener) {
        this.behind = new WriteBehind(fh.fd, undefined, keepCached);
    }

    /**
     * Creates `<file>.partial` new, 0600 (a stale one of ours is replaced; a symlink or anything else
     * under that name is refused, never written through), `size` bytes of hole when given; fails at once
     * when `file` itself exists.
     */
    static async create(file: string, size?: number, options: OutputFileOptions = {}): Promise<OutputFile> {
        await refuseExisting(file);
        const partialFile = partialFileName(file);
        const fh = await createFreshHandle(partialFile, 0o600);
        try {
            if (size !== undefined)
                await fh.truncate(size);
        } catch (err) {
            await fh.close().catch(() => {});
            await fsp.rm(partialFile, { force: true }).catch(() => {});
            throw err;
        }
        return new OutputFile(file, partialFile, fh, options.keepCached ?? false, options.onWritten);
    }

    /** Writes `buffers` back to back at `position`, all of them (short writes are continued). */
    async write(buffers: Buffer[], position: number): Promise<void> {
        if (this.state !== "open") throw new Error(`${this.partialFile} is ${this.state}`);
        const length = await writeAll(this.fh, buffers, position).catch(err => this.fail(err));
        this.behind.written(position + length);
        this.onWritten?.(position, position + length);
    }

    /**
     * write() that also resolves with the adler32 of the written bytes continued from `seed`, summed in
     * the same thread-pool job as the write (off the main thread, while the bytes are in that core's cache).
     */
    async writeSummed(buffers: Buffer[], position: number, seed: number): Promise<number> {
        if (this.state !== "open") throw new Error(`${this.partialFile} is ${this.state}`);
        const sum = await writeSummed(this.fh.fd, buffers, position, seed).catch(err => this.fail(err));
        let length = 0;
        for (const b of buffers) length += b.length;
        this.behind.written(position + length);
        this.onWritten?.(position, position + length);
        return sum;
    }

    /** Makes the partial file durable and closes it; publish() gives it its name afterwards. */
    async close(): Promise<void> {
        if (this.state !== "open") throw new Error(`${this.partialFile} is ${this.state}`);
        try {
            // Writeback errors found behind the writer surface here, as do those of the final flush.
            await this.behind.settle();
            await this.fh.sync();
        } catch (err) {
            this.fail(err);
        }
        await this.fh.close();
        this.state = "closed";
    }

    /** Rethrows an I/O error with the file's name (errno texts alone do not say which file), keeping its code. */
    private fail(err: unknown): never {
        const cause = err as NodeJS.ErrnoException;
        const named = new Error(`writing ${this.file}: ${cause?.message ?? String(err)}`, { cause: err }) as NodeJS.ErrnoException;
        if (cause?.code) named.code = cause.code;
        if (cause?.errno !== undefined) named.errno = cause.errno;
        throw named;
    }

    /** Gives the closed partial file its final name, durably. */
    async publish(): Promise<void> {
        if (this.state !== "closed") throw new Error(`${this.partialFile} is ${this.state}, not closed`);
        await publish(this.partialFile, this.file);
        await syncDirectory(path.dirname(this.file));
        this.state = "published";
    }

    /** Removes the partial file (after any write-behind step in progress has ended). */
    async discard(): Promise<void> {
        if (this.state === "published" || this.state === "discarded") return;
        const wasOpen = this.state === "open";
        this.state = "discarded";
        await this.behind.settle().catch(() => {});
        if (wasOpen)
            await this.fh.close().catch(() => {});
        await fsp.rm(this.partialFile, { force: true }).catch(() => {});
    }
}

/** Positioned writev that continues after short writes; resolves with the bytes written. */
export async function writeAll(fh: fsp.FileHandle, buffers: Buffer[], position: number): Promise<number> {
    let left = buffers;
    let pos = position;
    for (;;) {
        const want = left.reduce((n, b) => n + b.length, 0);
        if (want === 0) return pos - position;
        const { bytesWritten } = await fh.writev(left, pos);
        if (bytesWritten === want) return pos + want - position;
        if (bytesWritten <= 0) throw new Error(`write at byte ${pos} made no progress`);
        pos += bytesWritten;
        let skip = bytesWritten;
        const rest: Buffer[] = [];
        for (const b of left) {
            if (skip >= b.length) skip -= b.length;
            else {
                rest.push(skip > 0 ? b.subarray(skip) : b);
                skip = 0;
            }
        }
        left = rest;
    }
}

/** Fails when `file` exists (or cannot be checked); the backup must not replace a finished file. */
export async function refuseExisting(file: string): Promise<void> {
    try {
        await fsp.lstat(file);
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        throw err;
    }
    throw new Error(`${file} already exists; refusing to overwrite it`);
}

const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EMLINK"]);

/**
 * Gives `partial` the name `file` unless `file` exists. A hard link fails atomically on an existing
 * name, where rename would replace it; file systems without hard links fall back to check + rename.
 */
export async function publish(partial: string, file: string): Promise<void> {
    try {
        await fsp.link(partial, file);
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EEXIST") throw new Error(`${file} already exists; refusing to overwrite it`);
        if (!code || !NO_HARD_LINKS.has(code)) throw err;
        await refuseExisting(file);
        await fsp.rename(partial, file);
        return;
    }
    await fsp.unlink(partial);
}

/** Makes a rename durable; best effort, some file systems refuse fsync on directories. */
export async function syncDirectory(dir: string): Promise<void> {
    let fh: fsp.FileHandle | undefined;
    try {
        fh = await fsp.open(dir, "r");
        await fh.sync();
    } catch {
        // not fatal: the data itself was synced
    } finally {
        await fh?.close().catch(() => {});
    }
}
