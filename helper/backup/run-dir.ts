// SPDX-License-Identifier: GPL-3.0-or-later
// The root-only place for what a run shares with other processes: the per-VM job locks and the
// directories of running libvirt jobs (their NBD sockets). /run itself is writable by root only, so no
// other user can create, replace or take a name in here; each directory is still checked (owned by
// us, a real directory, not writable by group or others) before it is trusted.
import fs from "node:fs";
import path from "node:path";

export const RUN_DIR = "/run/virtnbdbackup";
/** <uuid>.lock files (flock) holding the owner's pid; 0700. */
export const LOCK_DIR = path.join(RUN_DIR, "locks");
/** One directory per running pull-mode job, owned by the VM's QEMU user (it creates the socket); 0711. */
export const JOBS_DIR = path.join(RUN_DIR, "jobs");
/** The virsh shell's XDG_CACHE_HOME (its readline history, not root's); 0700. */
export const VIRSH_CACHE_DIR = path.join(RUN_DIR, "virsh");

const DIR_MODES = new Map<string, number>([[RUN_DIR, 0o711], [LOCK_DIR, 0o700], [JOBS_DIR, 0o711]]);

/**
 * Creates `dir` (one level; the default directories with their parents) if missing, with `mode`, and
 * checks that it and every directory above it can be changed by no one but root (sticky directories
 * such as /tmp may hold it: others cannot rename what is ours there). Returns `dir`.
 */
export function privateDir(dir: string, mode = DIR_MODES.get(dir) ?? 0o700): string {
    const parent = path.dirname(dir);
    if (DIR_MODES.has(parent))
        privateDir(parent);
    try {
        fs.mkdirSync(dir, { mode });
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST")
            throw err;
    }
    const st = fs.lstatSync(dir);
    checkOwnedDir(dir, st);
    if ((st.mode & 0o7777) !== mode)
        fs.chmodSync(dir, mode);  // ours and root-only: a mode from an older version is just updated
    checkRootOnlyPath(parent);
    return dir;
}

/** Throws unless `dir` is a real directory of ours that group and others cannot write. */
function checkOwnedDir(dir: string, st: fs.Stats): void {
    if (st.isSymbolicLink() || !st.isDirectory())
        throw new Error(`refusing ${dir}: not a directory`);
    if (st.uid !== process.geteuid!())
        throw new Error(`refusing ${dir}: owned by uid ${st.uid}, not by this process's user`);
    if (st.mode & 0o022)
        throw new Error(`refusing ${dir}: writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`);
}

/**
 * Throws unless `dir` and every directory above it are real directories of root (or of this process's
 * user) that group and others cannot write, or sticky ones (/tmp, /var/tmp): then no other user can
 * rename, replace or add anything on the way to what this process makes inside `dir`.
 */
export function checkRootOnlyPath(dir: string, what = "directory"): void {
    for (let d = path.resolve(dir); ; d = path.dirname(d)) {
        let st: fs.Stats;
        try {
            st = fs.lstatSync(d);
        } catch (err) {
            throw new Error(`${what} ${dir}: ${d} cannot be used (${(err as NodeJS.ErrnoException).code ?? err})`);
        }
        const refuse = (why: string) => new Error(`refusing ${what} ${dir}: ${d} ${why}`);
        if (st.isSymbolicLink() || !st.isDirectory())
            throw refuse("is not a directory");
        if (st.uid !== 0 && st.uid !== process.geteuid!())
            throw refuse(`is owned by uid ${st.uid}, not by root`);
        if ((st.mode & 0o022) && !(st.mode & 0o1000))
            throw refuse(`is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`);
        if (d === path.dirname(d))
            return;
    }
}
