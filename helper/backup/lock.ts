// One job per VM at a time, across processes: an exclusive lock file per domain UUID holding the
// owner's pid. A lock whose owner is gone (crash, SIGKILL) is stale and taken over, so a crash never
// blocks the next run.
import fs from "node:fs";
import path from "node:path";
import { processAlive } from "../tools/proc.ts";

export const LOCK_DIR = "/run/lock/virtnbdbackup";

export class JobLockedError extends Error {
    constructor(readonly domain: string, readonly pid: number) {
        super(`another backup or restore job is running for ${domain} (process ${pid})`);
        this.name = "JobLockedError";
    }
}

export interface JobLock {
    /** True when the previous owner died without unlocking: its job and socket may need cleaning up. */
    readonly tookOverStale: boolean;
    release(): void;
}

/** Takes the lock for `key` (the domain UUID); `domain` only names it in messages. */
export function lockJob(key: string, domain: string, dir = LOCK_DIR): JobLock {
    if (!/^[A-Za-z0-9._-]+$/.test(key))
        throw new Error(`invalid lock key ${JSON.stringify(key)}`);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${key}.lock`);
    let tookOverStale = false;
    for (let attempt = 0; attempt < 3; attempt++) {
        try {
            const fd = fs.openSync(file, "wx", 0o600);
            fs.writeSync(fd, `${process.pid}\n`);
            fs.closeSync(fd);
            let released = false;
            return {
                tookOverStale,
                release() {
                    if (released)
                        return;
                    released = true;
                    try {
                        if (readOwner(file) === process.pid)
                            fs.unlinkSync(file);
                    } catch { /* already gone */ }
                },
            };
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EEXIST")
                throw err;
        }
        const owner = readOwner(file);
        if (owner !== undefined && owner !== process.pid && processAlive(owner))
            throw new JobLockedError(domain, owner);
        // Stale (or half-written by a process that died at once): remove and retry.
        try {
            fs.unlinkSync(file);
        } catch { /* someone else removed it */ }
        tookOverStale = true;
    }
    throw new Error(`could not take the job lock ${file}`);
}

function readOwner(file: string): number | undefined {
    try {
        const pid = Number.parseInt(fs.readFileSync(file, "utf8"), 10);
        return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
        return undefined;
    }
}
