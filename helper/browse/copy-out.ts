// SPDX-License-Identifier: GPL-3.0-or-later
// Files leaving a mounted guest file system: a tar stream of a folder (for a download), and a copy into a
// host folder under the trust rule (fs/trusted-folder.ts): the folder and every folder above it are
// root's and none is a system folder (fs/host-folder.ts), each file and folder is created new
// (O_EXCL|O_NOFOLLOW, 0600/0700: no setuid bit, no group or other access), nothing existing is replaced.
// Guest symlinks and special files are not copied to the host (listed as skipped): a guest link to /etc
// would lead a later root process on the host there, a device node would open a host device. What the
// guest's file system cannot show (a damaged entry, a folder hard-linked into itself: ELOOP) is skipped
// too, and each guest folder is copied once, so a crafted file system neither stops a copy half-way nor
// makes it endless.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createMissing } from "../fs/trusted-folder.ts";
import { resolveHostFolder } from "../fs/host-folder.ts";
import { openGuestFile, type Resolved } from "./guest-path.ts";
import { alignedBuffer } from "fileio-node";

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
const PIECE = 1024 * 1024;
const ZEROS = Buffer.alloc(PIECE);

/** Streams a resolved guest file or folder as a tar archive to `out` (links stored as links, never followed). */
export function tarTo(resolved: Resolved, root: string, out: NodeJS.WritableStream & { fd?: number }): Promise<void> {
    const atRoot = resolved.host === root;
    const args = ["--create", "--file=-", "--one-file-system", "--numeric-owner",
        "--directory", atRoot ? root : path.dirname(resolved.host), "--", atRoot ? "." : path.basename(resolved.host)];
    return new Promise((resolve, reject) => {
        const child = spawn("tar", args, { stdio: ["ignore", "pipe", "pipe"] });
        const err: Buffer[] = [];
        child.stdout.pipe(out, { end: false });
        child.stderr.on("data", (b: Buffer) => err.push(b));
        child.on("error", e => reject(new Error(`cannot run tar: ${e.message}`)));
        child.on("close", code => {
            if (code === 0)
                resolve();
            else
                reject(new Error(`tar of ${resolved.guest} failed: ${Buffer.concat(err).toString("utf8").trim().split("\n")[0] || `exit ${code}`}`));
        });
    });
}

/** What a restore to the host wrote. */
export interface HostRestoreResult {
    /** The file or folder made in the host folder. */
    target: string;
    files: number;
    folders: number;
    bytes: number;
    /** Guest paths not copied (symlinks, devices, sockets, fifos, entries that cannot be read). */
    skipped: string[];
}

/**
 * Copies a guest file or folder into `hostFolder` (made when missing) under its own name. On failure what
 * was made of the copy is removed again (all of it ours, in a folder no one else can change).
 */
export function restoreToHost(resolved: Resolved, name: string, hostFolder: string): HostRestoreResult {
    const role = "the restore folder";
    const trusted = resolveHostFolder(hostFolder, role);
    createMissing(trusted, role);
    const target = path.join(trusted.folder, name);
    if (fs.lstatSync(target, { throwIfNoEntry: false }))
        throw new Error(`${target} already exists; nothing was restored`);
    const result: HostRestoreResult = { target, files: 0, folders: 0, bytes: 0, skipped: [] };
    try {
        copyTree(resolved.host, resolved.guest, resolved.stat, target, result, new Set());
    } catch (err) {
        fs.rmSync(target, { recursive: true, force: true });
        throw err;
    }
    return result;
}

/** Copies one guest entry to `dst` (a new name); `seen`: the guest folders copied so far (dev:ino). */
function copyTree(src: string, guest: string, st: fs.Stats, dst: string, result: HostRestoreResult, seen: Set<string>): void {
    if (st.isFile()) {
        const inFd = openGuestFile({ host: src, guest, stat: st });
        try {
            const outFd = fs.openSync(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
            try {
                result.bytes += copyFd(inFd, outFd);
                fs.fsyncSync(outFd);
                fs.futimesSync(outFd, st.atime, st.mtime);
            } finally {
                fs.closeSync(outFd);
            }
        } finally {
            fs.closeSync(inFd);
        }
        result.files++;
    } else if (st.isDirectory() && !seen.has(`${st.dev}:${st.ino}`)) {
        seen.add(`${st.dev}:${st.ino}`);
        fs.mkdirSync(dst, { mode: 0o700 });
        result.folders++;
        for (const name of fs.readdirSync(src).sort()) {
            const child = path.join(src, name);
            const childGuest = guest === "/" ? `/${name}` : `${guest}/${name}`;
            const childStat = lstatOrNothing(child);
            if (childStat?.dev === st.dev)
                copyTree(child, childGuest, childStat, path.join(dst, name), result, seen);
            else if (!childStat)
                result.skipped.push(childGuest);  // listed by the kernel, not shown (ELOOP, a damaged inode)
            // else: another file system mounted on the way: the copy never leaves the guest's
        }
        const fd = fs.openSync(dst, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_NOFOLLOW);
        try {
            fs.futimesSync(fd, st.atime, st.mtime);
        } finally {
            fs.closeSync(fd);
        }
    } else {
        result.skipped.push(guest);
    }
}

/** lstat, or nothing when the guest's file system cannot show the entry (ELOOP, EIO, EUCLEAN of a damaged inode). */
function lstatOrNothing(file: string): fs.Stats | undefined {
    try {
        return fs.lstatSync(file);
    } catch {
        return undefined;
    }
}

/**
 * Copies a guest file's bytes into a new host file, leaving holes where the guest file reads as zeros: a
 * crafted guest's huge sparse file takes no more host disk than its data. Returns the bytes copied.
 */
function copyFd(inFd: number, outFd: number): number {
    const buf = alignedBuffer(PIECE);
    let total = 0;
    for (;;) {
        const n = fs.readSync(inFd, buf, 0, PIECE, null);
        if (n === 0)
            break;
        if (buf.compare(ZEROS, 0, n, 0, n) !== 0) {
            for (let off = 0; off < n;)
                off += fs.writeSync(outFd, buf, off, n - off, total + off);
        }
        total += n;
    }
    fs.ftruncateSync(outFd, total);
    return total;
}
