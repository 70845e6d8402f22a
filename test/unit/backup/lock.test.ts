// SPDX-License-Identifier: GPL-3.0-or-later
// The per-VM job lock, with real processes: exclusive while held, free again the moment its owner
// dies (even by SIGKILL), and the next owner learns that the previous one died.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { JobLockedError, lockJob, lockOwner } from "../../../helper/backup/lock.ts";
import { pidNamespace } from "../../../helper/tools/proc.ts";

const lockModule = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../../helper/backup/lock.ts");

function tempDir(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-lock-`));
}

/** A child process that takes the lock, says "locked", and waits to be killed. */
async function childHoldingLock(dir: string, key: string): Promise<ReturnType<typeof spawn>> {
    const script = path.join(dir, "holder.ts");
    fs.writeFileSync(script, `import { lockJob } from ${JSON.stringify(lockModule)};\n` +
        `lockJob(${JSON.stringify(key)}, "vm", ${JSON.stringify(dir)}).then(() => console.log("locked"));\nsetInterval(() => {}, 1000);\n`);
    const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (b: Buffer) => { if (b.toString().includes("locked")) resolve(); });
        child.on("exit", code => reject(new Error(`lock holder exited with ${code}`)));
    });
    return child;
}

test("a held lock refuses a second taker, names the owner, and is free after release", async () => {
    const dir = tempDir();
    try {
        const lock = await lockJob("uuid-1", "vm1", dir);
        assert.equal(lock.tookOverStale, false);
        // The holder line: pid and PID namespace (tools/proc.ts holderLine).
        assert.equal(fs.readFileSync(path.join(dir, "uuid-1.lock"), "utf8").trim(), `${process.pid} ${pidNamespace()}`);
        assert.equal(fs.statSync(path.join(dir, "uuid-1.lock")).mode & 0o777, 0o600);
        assert.equal(lockOwner("uuid-1", dir), process.pid);
        await assert.rejects(lockJob("uuid-1", "vm1", dir), (err: unknown) =>
            err instanceof JobLockedError && err.pid === process.pid && /another backup or restore job is running for vm1/.test(err.message));
        const other = await lockJob("uuid-2", "vm2", dir); // another VM is independent
        other.release();
        lock.release();
        // The file stays (a lock on a removed file would not exclude the taker of a new one), empty.
        assert.equal(fs.readFileSync(path.join(dir, "uuid-1.lock"), "utf8"), "");
        assert.equal(lockOwner("uuid-1", dir), undefined);
        const again = await lockJob("uuid-1", "vm1", dir);
        assert.equal(again.tookOverStale, false);
        again.release();
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("the lock of a process killed with SIGKILL is free at once, and its death is reported", async () => {
    const dir = tempDir();
    try {
        const child = await childHoldingLock(dir, "uuid-k");
        await assert.rejects(lockJob("uuid-k", "vm", dir), (err: unknown) => err instanceof JobLockedError && err.pid === child.pid);
        assert.equal(lockOwner("uuid-k", dir), child.pid);
        const exited = new Promise(resolve => child.on("exit", resolve));
        child.kill("SIGKILL");
        await exited;
        const lock = await lockJob("uuid-k", "vm", dir);
        assert.equal(lock.tookOverStale, true, "the pid file of the dead owner tells us to clean up after it");
        assert.equal(lockOwner("uuid-k", dir), process.pid);
        lock.release();
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("many takers at once: exactly one gets the lock", async () => {
    const dir = tempDir();
    try {
        const results = await Promise.allSettled(Array.from({ length: 8 }, () => lockJob("uuid-r", "vm", dir)));
        const won = results.filter(r => r.status === "fulfilled");
        assert.equal(won.length, 1);
        assert.ok(results.filter(r => r.status === "rejected").every(r => (r as PromiseRejectedResult).reason instanceof JobLockedError));
        (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof lockJob>>>).value.release();
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("the lock is refused in a directory others could change, and its file must be a regular one", async () => {
    const dir = tempDir();
    try {
        const open = path.join(dir, "open");
        fs.mkdirSync(open, { mode: 0o700 });
        fs.chmodSync(open, 0o777);
        await assert.rejects(lockJob("uuid-o", "vm", open), /refusing .*open: writable by group or others/);
        const link = path.join(dir, "link");
        fs.mkdirSync(path.join(dir, "real"), { mode: 0o700 });
        fs.symlinkSync(path.join(dir, "real"), link);
        await assert.rejects(lockJob("uuid-l", "vm", link), /refusing .*link: not a directory/);
        const locks = path.join(dir, "locks");
        fs.mkdirSync(locks, { mode: 0o700 });
        fs.symlinkSync("/etc/hostname", path.join(locks, "uuid-s.lock"));
        await assert.rejects(lockJob("uuid-s", "vm", locks), { code: "ELOOP" });
        await assert.rejects(lockJob("../x", "vm", locks), /invalid lock key/);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
