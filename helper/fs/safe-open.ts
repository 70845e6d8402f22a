// SPDX-License-Identifier: GPL-3.0-or-later
// How the root helper creates files in a folder: never through an existing name. New files (data, partial
// and temporary names) are created with O_CREAT|O_EXCL|O_NOFOLLOW, so a symlink or file planted under that
// name is never written through; appends (logs) never follow a symlink and only go to a file of ours.
// Removals (fs.rm/unlink) never follow symlinks anyway. The folder itself is trusted (trusted-folder.ts):
// these rules are the second line, for what root itself may have left there.
import fs from "node:fs";
import path from "node:path";
import fsp from "node:fs/promises";

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_APPEND } = fs.constants;
const CREATE = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

function euid(): number {
    return process.geteuid?.() ?? 0;
}

/**
 * After EEXIST: a regular file of ours with a single name is a leftover of a run that died (a stale
 * `.partial` or `.tmp-<pid>`) and is removed; anything else (a symlink, a folder, another user's file,
 * a hard link) is refused.
 */
function clearLeftover(file: string): void {
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    if (!st)
        return;
    if (!st.isFile() || st.uid !== euid() || st.nlink !== 1) {
        const what = st.isSymbolicLink() ? "a symbolic link" : !st.isFile() ? "not a regular file" : st.uid !== euid() ? "another user's file" : "a file with other names (hard links)";
        throw new Error(`${file} exists and is ${what}: refusing to write through it`);
    }
    fs.unlinkSync(file);
}

function isExists(err: unknown): boolean {
    const code = (err as NodeJS.ErrnoException).code;
    // O_NOFOLLOW on a symlink gives ELOOP on some paths of the kernel.
    return code === "EEXIST" || code === "ELOOP";
}

/** Creates `file` new (a leftover of ours is replaced, see clearLeftover); returns its descriptor. */
export function createFresh(file: string, mode = 0o600): number {
    try {
        return fs.openSync(file, CREATE, mode);
    } catch (err) {
        if (!isExists(err))
            throw err;
    }
    clearLeftover(file);
    return fs.openSync(file, CREATE, mode);
}

/** createFresh() as a FileHandle. */
export async function createFreshHandle(file: string, mode = 0o600): Promise<fsp.FileHandle> {
    try {
        return await fsp.open(file, CREATE, mode);
    } catch (err) {
        if (!isExists(err))
            throw err;
    }
    clearLeftover(file);
    return fsp.open(file, CREATE, mode);
}

/** Creates `file` new and returns its descriptor; fails when the name exists (nothing is replaced, not even a leftover). */
export function createNew(file: string, mode = 0o600): number {
    try {
        return fs.openSync(file, CREATE, mode);
    } catch (err) {
        if (isExists(err))
            throw new Error(`${file} already exists; refusing to overwrite it`);
        throw err;
    }
}

/** Creates `file` new with exactly `data`, durably; fails when the name exists (nothing is replaced). */
export async function writeNewFile(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
    let fh: fsp.FileHandle;
    try {
        fh = await fsp.open(file, CREATE, mode);
    } catch (err) {
        if (isExists(err))
            throw new Error(`${file} already exists; refusing to overwrite it`);
        throw err;
    }
    try {
        await fh.writeFile(data);
        await fh.sync();
    } catch (err) {
        await fh.close().catch(() => {});
        await fsp.rm(file, { force: true }).catch(() => {});
        throw err;
    }
    await fh.close();
}

/** Opens `file` for appending (created 0600 when missing): never through a symlink, only a regular file of ours. */
export function openAppend(file: string, mode = 0o600): number {
    let fd: number;
    try {
        fd = fs.openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, mode);
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ELOOP")
            throw new Error(`${file} is a symbolic link: refusing to write through it`);
        throw err;
    }
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== euid() || st.nlink !== 1) {
        fs.closeSync(fd);
        throw new Error(`${file} is not a regular file of the helper's own: refusing to append to it`);
    }
    return fd;
}

/**
 * Replaces `file` with `data` atomically and durably: written to `<file>.tmp-<pid>` (created new), flushed,
 * renamed, and the folder flushed, so a reader sees the old or the new content, never half of one, and after
 * a power failure the file is the old or the new one, never empty (ext4 and xfs keep a rename whose data was
 * not yet flushed only as a zero-length file).
 */
export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): void {
    const tmp = `${file}.tmp-${process.pid}`;
    const fd = createFresh(tmp, mode);
    try {
        try {
            fs.writeFileSync(fd, data);
            fs.fsyncSync(fd);
        } finally {
            fs.closeSync(fd);
        }
        fs.renameSync(tmp, file);
    } catch (err) {
        fs.rmSync(tmp, { force: true });
        throw err;
    }
    syncFolder(path.dirname(file));
}

/** Flushes a folder's entries (a rename or a new name in it) to disk. */
export function syncFolder(folder: string): void {
    const fd = fs.openSync(folder, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
        fs.fsyncSync(fd);
    } catch (err) {
        // Some file systems do not flush folders (EINVAL); their renames are as durable as they get.
        if ((err as NodeJS.ErrnoException).code !== "EINVAL")
            throw err;
    } finally {
        fs.closeSync(fd);
    }
}
