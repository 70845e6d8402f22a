// SPDX-License-Identifier: GPL-3.0-or-later
// The lock that keeps a mapping's start and a pruning or consolidation of the same chain folder apart. A
// mapping (virtnbdmap, map-point, browse, a VM started from backup) reads the folder, checks its point and
// records the files it serves (map-dirs.ts) under the folder's shared lock; a pruning or consolidation holds
// the exclusive lock from the check for files in use (jobs/chain-users.ts) until its last file is removed.
// So a mapping either recorded its files before that check (the check sees them: refused or skipped), or
// starts after the change (it reads the folder as it is then): it never serves files that are about to go.
// Shared holders are only mappings being set up (seconds); a running mapping holds nothing, its owner record
// protects its files.
//
// flock(2) on /run/virtnbdbackup/locks/folder-<dev>-<inode>.lock (root-only, on tmpfs: works whatever file
// system the backups are on, also NFS): keyed by the folder's identity, so every path to it meets the same
// lock, and released by the kernel however the holder ends. The exclusive holder writes its pid there for
// the message of a mapping it turns away. The file is never removed (see lock.ts).
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { tryLock } from "fileio-node";
import { holderLine, parseHolderLine, processRunning } from "../tools/proc.ts";
import { LOCK_DIR, privateDir } from "./run-dir.ts";

export interface FolderLock {
    release(): void;
}

/** The folder is being pruned or consolidated (a mapping was turned away), or mappings of it are starting. */
export class FolderBusyError extends Error {
    override readonly name = "FolderBusyError";
}

const POLL_MS = 100;
/** How long a mapping waits for a pruning to end before it is refused (a consolidation may take minutes). */
export const SHARED_WAIT_MS = 5_000;
/** How long a pruning waits for mappings being set up to have recorded their files. */
export const EXCLUSIVE_WAIT_MS = 120_000;

const NO_LOCK: FolderLock = { release() {} };

/** The lock file of a folder; undefined when the folder does not exist (nothing there to protect). */
function lockFileOf(folder: string, dir: string): string | undefined {
    const st = fs.statSync(folder, { throwIfNoEntry: false, bigint: true });
    if (!st?.isDirectory())
        return undefined;
    return path.join(privateDir(dir), `folder-${st.dev}-${st.ino}.lock`);
}

function openLockFile(file: string): number {
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== process.geteuid!()) {
        fs.closeSync(fd);
        throw new Error(`refusing lock file ${file}: not a regular file of this process's user`);
    }
    return fd;
}

function readPid(fd: number): number | undefined {
    const buf = Buffer.alloc(64);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const holder = parseHolderLine(buf.subarray(0, n).toString("utf8"));
    return holder !== undefined && processRunning(holder) ? holder.pid : undefined;
}

/** Takes the lock of `folder` (waiting up to `waitMs`), or throws `busy(pid of the exclusive holder)`. */
async function take(folder: string, mode: "shared" | "exclusive", waitMs: number, dir: string, busy: (pid: number | undefined) => Error,
                    signal?: AbortSignal): Promise<FolderLock> {
    const file = lockFileOf(folder, dir);
    if (file === undefined)
        return NO_LOCK;
    const fd = openLockFile(file);
    const deadline = Date.now() + waitMs;
    try {
        while (!tryLock(fd, mode === "shared" ? "shared" : true)) {
            if (Date.now() >= deadline)
                throw busy(readPid(fd));
            signal?.throwIfAborted();
            await sleep(POLL_MS);
        }
    } catch (err) {
        fs.closeSync(fd);
        throw err;
    }
    if (mode === "exclusive") {
        fs.ftruncateSync(fd, 0);
        fs.writeSync(fd, holderLine(), 0);
    }
    let released = false;
    return {
        release() {
            if (released)
                return;
            released = true;
            try {
                if (mode === "exclusive")
                    fs.ftruncateSync(fd, 0);
            } finally {
                fs.closeSync(fd);  // closing releases the lock
            }
        },
    };
}

/** A mapping's start: waits a little for a pruning or consolidation of `folder` to end, else refuses. */
export function lockFolderForMapping(folder: string, opts: { waitMs?: number; dir?: string } = {}): Promise<FolderLock> {
    return take(folder, "shared", opts.waitMs ?? SHARED_WAIT_MS, opts.dir ?? LOCK_DIR, pid => new FolderBusyError(
        `${folder} is being pruned or consolidated${pid ? ` (process ${pid})` : ""}: nothing was mapped; try again when that has ended`));
}

/**
 * A pruning or consolidation of `folders` (chain folders): waits for mappings being set up, then excludes new
 * ones. `signal` (the run's cancel) ends the wait.
 */
export async function lockFoldersForChange(folders: readonly string[], opts: { waitMs?: number; dir?: string; signal?: AbortSignal } = {}): Promise<FolderLock> {
    const held: FolderLock[] = [];
    const releaseAll = () => { for (const l of held.splice(0).reverse()) l.release() };
    try {
        const seen = new Set<string>();
        for (const folder of folders) {
            const file = lockFileOf(folder, opts.dir ?? LOCK_DIR);
            if (file === undefined || seen.has(file))
                continue;  // gone, or the same folder by another path (its lock is held already)
            seen.add(file);
            held.push(await take(folder, "exclusive", opts.waitMs ?? EXCLUSIVE_WAIT_MS, opts.dir ?? LOCK_DIR, pid => new FolderBusyError(
                `${folder} is in use${pid ? ` by process ${pid}` : " by a mapping being started"}: nothing was changed; try again`), opts.signal));
        }
    } catch (err) {
        releaseAll();
        throw err;
    }
    return { release: releaseAll };
}
