// One job per VM at a time, across processes. The lock itself is a unix socket bound to an abstract
// name (Linux): binding is atomic and exclusive, and the kernel releases it when the process ends,
// however it ends, so there is no stale lock to take over and no race in taking one over. Beside it
// a file holds the owner's pid, for messages and for the UI's "is a job running" check; a pid file left
// by a process that died tells the next run to clean up after it.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { processAlive } from "../tools/proc.ts";

export const LOCK_DIR = "/run/lock/virtnbdbackup";

export class JobLockedError extends Error {
    constructor(readonly domain: string, readonly pid: number | undefined) {
        super(`another backup or restore job is running for ${domain}${pid ? ` (process ${pid})` : ""}`);
        this.name = "JobLockedError";
    }
}

export interface JobLock {
    /** True when the previous owner died without unlocking: its job and socket may need cleaning up. */
    readonly tookOverStale: boolean;
    release(): void;
}

/** Takes the lock for `key` (the domain UUID); `domain` only names it in messages. */
export async function lockJob(key: string, domain: string, dir = LOCK_DIR): Promise<JobLock> {
    if (!/^[A-Za-z0-9._-]+$/.test(key))
        throw new Error(`invalid lock key ${JSON.stringify(key)}`);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${key}.lock`);
    const server = net.createServer();
    try {
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            // The lock directory is part of the name, so tests with their own directory do not collide.
            server.listen({ path: `\0${path.resolve(dir)}/${key}`, exclusive: true }, () => resolve());
        });
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EADDRINUSE")
            throw new JobLockedError(domain, readOwner(file));
        throw err;
    }
    server.unref(); // the lock must not keep the process alive
    const previous = readOwner(file);
    const tookOverStale = previous !== undefined && previous !== process.pid && !processAlive(previous);
    const tmp = `${file}.${process.pid}`;
    fs.writeFileSync(tmp, `${process.pid}\n`, { mode: 0o600 });
    fs.renameSync(tmp, file);
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
            server.close();
        },
    };
}

function readOwner(file: string): number | undefined {
    try {
        const pid = Number.parseInt(fs.readFileSync(file, "utf8"), 10);
        return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
        return undefined;
    }
}
