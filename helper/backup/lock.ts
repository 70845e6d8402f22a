// SPDX-License-Identifier: GPL-3.0-or-later
// One job per VM at a time, across processes. The lock is flock(2) on <uuid>.lock in a root-only
// directory (/run/virtnbdbackup/locks): taking it is atomic and exclusive, no other user can create or
// hold that file, and the kernel releases it when the process ends, however it ends, so there is no
// stale lock to take over and no race in taking one over. The file holds the owner's pid, for messages
// and for the UI's "is a job running" check; a pid found there by the next owner was left by a process
// that died holding the lock, which tells that run to clean up after it. The file is never removed:
// a lock on an unlinked file would not exclude a taker of the new one.
import fs from "node:fs";
import path from "node:path";
import { tryLock } from "fileio-node";
import { holderLine, parseHolderLine, processRunning, type ProcessRef } from "../tools/proc.ts";
import { LOCK_DIR, privateDir } from "./run-dir.ts";

export { LOCK_DIR };

export class JobLockedError extends Error {
    constructor(readonly domain: string, readonly pid: number | undefined) {
        super(`another backup or restore job is running for ${domain}${pid ? ` (process ${pid})` : ""}`);
        this.name = "JobLockedError";
    }
}

export interface JobLock {
    /** True when the previous owner died holding the lock: its job and files may need cleaning up. */
    readonly tookOverStale: boolean;
    release(): void;
}

function lockFile(key: string, dir: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(key) || key.startsWith("."))
        throw new Error(`invalid lock key ${JSON.stringify(key)}`);
    return path.join(dir, `${key}.lock`);
}

/** Takes the lock for `key` (the domain UUID); `domain` only names it in messages. */
export async function lockJob(key: string, domain: string, dir = LOCK_DIR): Promise<JobLock> {
    const file = lockFile(key, privateDir(dir));
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
    let held = false;
    try {
        const st = fs.fstatSync(fd);
        if (!st.isFile() || st.uid !== process.geteuid!())
            throw new Error(`refusing lock file ${file}: not a regular file of this process's user`);
        if (!tryLock(fd))
            throw new JobLockedError(domain, readHolder(fd)?.pid);
        held = true;
        const previous = readHolder(fd);
        fs.ftruncateSync(fd, 0);
        fs.writeSync(fd, holderLine(), 0);
        let released = false;
        return {
            tookOverStale: previous !== undefined && previous.pid !== process.pid,
            release() {
                if (released)
                    return;
                released = true;
                try {
                    fs.ftruncateSync(fd, 0);  // "no owner" before the lock is free
                } finally {
                    fs.closeSync(fd);         // closing releases the lock
                }
            },
        };
    } finally {
        if (!held)
            fs.closeSync(fd);
    }
}

/** The pid of a live process holding the lock of `key`, as its file says; undefined when free. */
export function lockOwner(key: string, dir = LOCK_DIR): number | undefined {
    let fd: number;
    try {
        fd = fs.openSync(lockFile(key, dir), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch {
        return undefined;
    }
    try {
        // One of another PID namespace holds it as far as we can tell (tools/proc.ts processRunning).
        const holder = readHolder(fd);
        return holder !== undefined && processRunning(holder) ? holder.pid : undefined;
    } finally {
        fs.closeSync(fd);
    }
}

function readHolder(fd: number): ProcessRef | undefined {
    const buf = Buffer.alloc(64);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return parseHolderLine(buf.subarray(0, n).toString("utf8"));
}
