// SPDX-License-Identifier: GPL-3.0-or-later
// Which folders the root helper writes into. A folder is trusted when no other user can change what its
// path leads to: every component, from /, is a directory owned by root (or by the running user, when not
// root) and writable by no one else, except an ancestor that is sticky (/tmp, /var/tmp), where only the
// owner of an entry may rename or remove it and the next component is ours; a symlink on the way must be
// ours too, and so must everything it leads to. This is OpenSSH's StrictModes rule, adjusted for sticky
// folders. It is a property, not a moment: once it holds, nobody but root can plant a symlink, swap a
// folder or add a file anywhere on the path, so the helper may use the (real) path again later. Missing
// folders are made by us, one component at a time, 0700 by default. ACLs are not looked at.
import fs from "node:fs";
import path from "node:path";

export class UntrustedFolderError extends Error {
    override readonly name = "UntrustedFolderError";
    /** untrusted: the rule refuses a component; not-a-folder: a component is a file. */
    constructor(message: string, readonly kind: "untrusted" | "not-a-folder" = "untrusted") {
        super(message);
    }
}

/** What the folder is for, as the messages name it: "a backup folder", "a restore folder", ... */
export type FolderRole = string;

const WRITABLE_BY_OTHERS = 0o022;
const STICKY = 0o1000;

function euid(): number {
    return process.geteuid?.() ?? 0;
}

/** The trusted owners: root, the running user when not root (tests, a user's own CLI runs), and `also`. */
function trustedOwner(uid: number, also: readonly number[]): boolean {
    return uid === 0 || uid === euid() || also.includes(uid);
}

/** Options of a check: owners trusted beside root (see qemuUsers). */
export interface TrustOptions {
    alsoOwners?: readonly number[];
}

/**
 * The users libvirt runs QEMU as (libvirt-qemu on Debian, qemu elsewhere), where present: libvirt makes
 * its NVRAM folder theirs, so boot files restored to their configured places accept them as owners.
 */
export function qemuUsers(): number[] {
    const uids: number[] = [];
    try {
        for (const line of fs.readFileSync("/etc/passwd", "utf8").split("\n")) {
            const [name, , uid] = line.split(":");
            if ((name === "libvirt-qemu" || name === "qemu") && /^\d+$/.test(uid ?? ""))
                uids.push(Number(uid));
        }
    } catch {
        // root only, then
    }
    return uids;
}

/** A name from /etc/passwd or /etc/group for a message; the number when not found. */
function nameOf(file: "/etc/passwd" | "/etc/group", id: number): string {
    try {
        for (const line of fs.readFileSync(file, "utf8").split("\n")) {
            const fields = line.split(":");
            if (fields[2] === String(id) && fields[0])
                return fields[0];
        }
    } catch {
        // the number says it too
    }
    return String(id);
}

function refuse(component: string, why: string, role: FolderRole): never {
    throw new UntrustedFolderError(`${component} ${why}: ${role} and every folder above it must be writable only by root`);
}

/**
 * Checks one component (`last`: the folder itself, where a sticky world-writable folder is no exception:
 * others may create files in it).
 */
function checkComponent(component: string, last: boolean, role: FolderRole, options: TrustOptions = {}): void {
    const st = fs.lstatSync(component);
    if (st.isSymbolicLink())
        refuse(component, "is a symbolic link", role);
    if (!st.isDirectory())
        throw new UntrustedFolderError(`${component} is not a folder`, "not-a-folder");
    if (!trustedOwner(st.uid, options.alsoOwners ?? []))
        refuse(component, `is owned by user ${nameOf("/etc/passwd", st.uid)}`, role);
    if ((st.mode & WRITABLE_BY_OTHERS) === 0 || (!last && (st.mode & STICKY) !== 0))
        return;
    if (st.mode & 0o002)
        refuse(component, "is writable by every user", role);
    refuse(component, `is writable by group ${nameOf("/etc/group", st.gid)}`, role);
}

/**
 * Checks every component of `real` (an existing real path, no symlinks) from / down; `asFolder`: the last
 * component is the folder itself (false: it is an ancestor, which may be sticky).
 */
export function checkTrustedPath(real: string, role: FolderRole, options: TrustOptions = {}, asFolder = true): void {
    const parts = real.split("/").filter(Boolean);
    checkComponent("/", asFolder && parts.length === 0, role, options);
    for (let i = 1; i <= parts.length; i++)
        checkComponent("/" + parts.slice(0, i).join("/"), asFolder && i === parts.length, role, options);
}

/** lstat, or undefined when the name is missing (a file on the way, ENOTDIR, counts as missing). */
function lstatIfExists(file: string): fs.Stats | undefined {
    try {
        return fs.lstatSync(file);
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR")
            return undefined;
        throw err;
    }
}

/** Where a (trusted) symlink leads; one that loops or leads nowhere is refused by name (a one-line answer, not a raw ELOOP). */
function realPathOfLink(link: string, role: FolderRole): string {
    try {
        return fs.realpathSync(link);
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ELOOP")
            throw new UntrustedFolderError(`${link} is a symbolic link that loops: ${role} must be a folder`);
        if (code === "ENOENT" || code === "ENOTDIR")
            throw new UntrustedFolderError(`${link} is a symbolic link to ${fs.readlinkSync(link)}, which does not exist: ${role} must be a folder`);
        throw err;
    }
}

/** A folder checked by resolveTrustedFolder: its real path and the components still to be made, top first. */
export interface TrustedFolder {
    folder: string;
    missing: string[];
}

/**
 * Resolves `folder` once, component by component as given, and checks it: every folder on the way is
 * trusted, and a symlink on the way is followed only when it is root's (it lives in a trusted folder, so
 * nobody else can change it) and everything it leads to is trusted in turn. The result is the real path
 * the helper uses from then on. Makes nothing: createMissing does that.
 */
export function resolveTrustedFolder(folder: string, role: FolderRole, options: TrustOptions = {}): TrustedFolder {
    const parts = path.resolve(folder).split("/").filter(Boolean);
    let at = "/";
    checkComponent("/", parts.length === 0, role, options);
    for (let i = 0; i < parts.length; i++) {
        const last = i === parts.length - 1;
        const next = path.join(at, parts[i]!);
        const st = lstatIfExists(next);
        if (!st) {
            const missing: string[] = [];
            for (const name of parts.slice(i)) {
                at = path.join(at, name);
                missing.push(at);
            }
            return { folder: at, missing };
        }
        if (st.isSymbolicLink()) {
            // In a sticky folder (/tmp) the link's owner chose where it leads.
            if (!trustedOwner(st.uid, options.alsoOwners ?? []))
                refuse(next, `is a symbolic link owned by user ${nameOf("/etc/passwd", st.uid)}`, role);
            at = realPathOfLink(next, role);
            checkTrustedPath(at, role, options, last);
        } else {
            checkComponent(next, last, role, options);
            at = next;
        }
    }
    return { folder: at, missing: [] };
}

/**
 * Makes the missing components, each with `mode` (0700 unless told), and verifies each afterwards: a
 * folder (not a symlink), ours, writable by no one else. The parent of each is trusted, so nobody else
 * can get in between. Returns the topmost folder made, if any.
 */
export function createMissing(trusted: TrustedFolder, role: FolderRole, mode = 0o700, options: TrustOptions = {}): string | undefined {
    let made: string | undefined;
    for (const dir of trusted.missing) {
        try {
            fs.mkdirSync(dir, { mode });
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EEXIST")
                throw err;
            // Made meanwhile (by root: the parent is trusted): checked like any existing folder.
            checkComponent(dir, dir === trusted.folder, role, options);
            continue;
        }
        const st = fs.lstatSync(dir);
        if (!st.isDirectory() || st.uid !== euid() || (st.mode & WRITABLE_BY_OTHERS) !== 0)
            throw new UntrustedFolderError(`${dir} is not the folder the helper just made`);
        made ??= dir;
    }
    return made;
}

/** resolveTrustedFolder + createMissing: the trusted real path, made when missing, and the topmost folder made. */
export function prepareTrustedFolder(folder: string, role: FolderRole, mode = 0o700): { folder: string; made: string | undefined } {
    const trusted = resolveTrustedFolder(folder, role);
    const made = createMissing(trusted, role, mode);
    return { folder: trusted.folder, made };
}
