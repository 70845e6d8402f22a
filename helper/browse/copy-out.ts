// SPDX-License-Identifier: GPL-3.0-or-later
// Files leaving a mounted guest file system: a tar stream of a folder (for a download), and a copy into a
// host folder under the trust rule (fs/trusted-folder.ts): the folder and every folder above it are
// root's, each file and folder is created new (O_EXCL|O_NOFOLLOW, 0600/0700), nothing existing is
// replaced. Guest symlinks and special files are not copied to the host (listed as skipped): a guest link
// to /etc would lead a later root process on the host there.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { prepareTrustedFolder } from "../fs/trusted-folder.ts";
import { openGuestFile, type Resolved } from "./guest-path.ts";

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
const PIECE = 1024 * 1024;

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

/** Copies a resolved guest file's bytes to a descriptor. */
export function copyFileTo(resolved: Resolved, outFd: number): void {
    const inFd = openGuestFile(resolved);
    try {
        copyFd(inFd, outFd);
    } finally {
        fs.closeSync(inFd);
    }
}

/** What a restore to the host wrote. */
export interface HostRestoreResult {
    /** The file or folder made in the host folder. */
    target: string;
    files: number;
    folders: number;
    bytes: number;
    /** Guest paths not copied (symlinks, devices, sockets, fifos). */
    skipped: string[];
}

/** Copies a guest file or folder into `hostFolder` (made when missing) under its own name. */
export function restoreToHost(resolved: Resolved, name: string, hostFolder: string): HostRestoreResult {
    const { folder } = prepareTrustedFolder(hostFolder, "the restore folder");
    const target = path.join(folder, name);
    if (fs.lstatSync(target, { throwIfNoEntry: false }))
        throw new Error(`${target} already exists; nothing was restored`);
    const result: HostRestoreResult = { target, files: 0, folders: 0, bytes: 0, skipped: [] };
    copyTree(resolved.host, resolved.guest, resolved.stat, target, result);
    return result;
}

function copyTree(src: string, guest: string, st: fs.Stats, dst: string, result: HostRestoreResult): void {
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
    } else if (st.isDirectory()) {
        fs.mkdirSync(dst, { mode: 0o700 });
        result.folders++;
        for (const name of fs.readdirSync(src).sort()) {
            const child = path.join(src, name);
            const childStat = fs.lstatSync(child);
            if (childStat.dev !== st.dev)
                continue;  // never leave the guest's file system
            copyTree(child, guest === "/" ? `/${name}` : `${guest}/${name}`, childStat, path.join(dst, name), result);
        }
        fs.utimesSync(dst, st.atime, st.mtime);
    } else {
        result.skipped.push(guest);
    }
}

function copyFd(inFd: number, outFd: number): number {
    const buf = Buffer.allocUnsafe(PIECE);
    let total = 0;
    for (;;) {
        const n = fs.readSync(inFd, buf, 0, PIECE, null);
        if (n === 0)
            return total;
        for (let off = 0; off < n;)
            off += fs.writeSync(outFd, buf, off, n - off);
        total += n;
    }
}
