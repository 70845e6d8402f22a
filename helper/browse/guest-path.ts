// SPDX-License-Identifier: GPL-3.0-or-later
// Paths inside a mounted guest file system. The page names a guest path ("/etc/hosts"); the helper turns it
// into a host path under the mount's root the way the guest would see it, with the mount's root as "/":
// a guest symlink is followed inside the guest file system (an absolute target starts again at the mount's
// root, ".." stops at it), so no guest symlink ever leads to a host file. Every component is looked at with
// lstat, and the mount is read-only over a read-only disk: what was checked cannot change before it is
// opened. Opening the result still uses O_NOFOLLOW, and every step must stay on the mount's device.
import fs from "node:fs";
import path from "node:path";

/** Symlinks followed in one resolution at most (Linux's own limit). */
const MAX_LINKS = 40;
const MAX_PATH = 4096;

/** A guest path from the page: absolute, no empty, "." or ".." components, no NUL. */
export function parseGuestPath(value: string): string {
    if (value === "/")
        return value;
    if (value.length > MAX_PATH || !value.startsWith("/") || value.includes("\0"))
        throw new Error("not an absolute guest path");
    const parts = value.slice(1).split("/");
    if (parts.some(p => p === "" || p === "." || p === ".."))
        throw new Error("a guest path has no empty, '.' or '..' components");
    return value;
}

/** A guest path resolved: its host path (no symlink in it) and the guest path it really names. */
export interface Resolved {
    host: string;
    guest: string;
    stat: fs.Stats;
}

/**
 * Resolves `guestPath` under `root` (a mounted guest file system). followLast: a symlink as the last
 * component is followed too (false: it is the result, e.g. to list it as a link).
 */
export function resolveGuestPath(root: string, guestPath: string, followLast: boolean): Resolved {
    const rootStat = fs.lstatSync(root);
    const pending = parseGuestPath(guestPath).split("/").filter(Boolean);
    const at: string[] = [];
    let stat = rootStat;
    let links = 0;
    while (pending.length > 0) {
        const name = pending.shift()!;
        if (name === "." || name === "")
            continue;
        if (name === "..") {
            at.pop();
            stat = fs.lstatSync(path.join(root, ...at));
            continue;
        }
        if (!stat.isDirectory())
            throw guestError("ENOTDIR", `/${at.join("/")} is not a folder`);
        const host = path.join(root, ...at, name);
        let st: fs.Stats;
        try {
            st = fs.lstatSync(host);
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "ENOENT")
                throw guestError("ENOENT", `/${[...at, name].join("/")} does not exist`);
            throw e;
        }
        if (st.dev !== rootStat.dev)
            throw guestError("EXDEV", `/${[...at, name].join("/")} is not on this file system`);
        if (st.isSymbolicLink() && (pending.length > 0 || followLast)) {
            if (++links > MAX_LINKS)
                throw guestError("ELOOP", `too many symbolic links in ${guestPath}`);
            const target = fs.readlinkSync(host);
            if (target.startsWith("/"))
                at.length = 0;
            pending.unshift(...target.split("/"));
            stat = fs.lstatSync(path.join(root, ...at));
            continue;
        }
        at.push(name);
        stat = st;
    }
    return { host: path.join(root, ...at), guest: `/${at.join("/")}`, stat };
}

/** Opens a resolved regular file for reading, refusing anything that is not one (O_NOFOLLOW). */
export function openGuestFile(resolved: Resolved): number {
    if (!resolved.stat.isFile())
        throw guestError("EISDIR", `${resolved.guest} is not a regular file`);
    const fd = fs.openSync(resolved.host, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NOCTTY);
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.ino !== resolved.stat.ino || st.dev !== resolved.stat.dev) {
        fs.closeSync(fd);
        throw guestError("ESTALE", `${resolved.guest} changed while it was opened`);
    }
    return fd;
}

/** One entry of a guest folder as the page lists it. */
export interface GuestEntry {
    name: string;
    type: "file" | "folder" | "symlink" | "other";
    size: number;
    /** Modification time, seconds since the epoch. */
    mtime: number;
    /** Where a symlink points, as stored in the guest (never followed for the listing). */
    target?: string;
}

/** The entries of a resolved guest folder, sorted by name; nothing is followed. */
export function listGuestFolder(resolved: Resolved): GuestEntry[] {
    if (!resolved.stat.isDirectory())
        throw guestError("ENOTDIR", `${resolved.guest} is not a folder`);
    const entries: GuestEntry[] = [];
    for (const name of fs.readdirSync(resolved.host).sort()) {
        const host = path.join(resolved.host, name);
        let st: fs.Stats;
        try {
            st = fs.lstatSync(host);
        } catch {
            continue;  // a name the kernel lists but cannot stat (a damaged inode): left out
        }
        const type = st.isFile() ? "file" : st.isDirectory() ? "folder" : st.isSymbolicLink() ? "symlink" : "other";
        const entry: GuestEntry = { name, type, size: st.size, mtime: Math.floor(st.mtimeMs / 1000) };
        if (type === "symlink")
            entry.target = fs.readlinkSync(host);
        entries.push(entry);
    }
    return entries;
}

function guestError(code: string, message: string): NodeJS.ErrnoException {
    const e: NodeJS.ErrnoException = new Error(message);
    e.code = code;
    return e;
}
