// SPDX-License-Identifier: GPL-3.0-or-later
// Starts the host's libvirtd (and virtlogd, which it needs for QEMU logs) for tests when they are not running,
// and stops later only what this process started. There is no systemd here: the daemons run with -d.
//
// Several test processes (one per test file, a runner-level setup, other engineers' runs) may call this at once,
// so the check-and-start runs under a cross-process lock, and every caller registers itself as a user: a stopper
// leaves the daemons running while another live process still uses them.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { run } from "./exec.ts";
import { processAlive } from "../../helper/tools/proc.ts";

/** The libvirt connection URI the tests use. */
export const LIBVIRT_URI = "qemu:///system";

const STATE_DIR = "/run/vnbt-testbed";
const LOCK_DIR = path.join(STATE_DIR, "libvirtd.lock");
const USERS_DIR = path.join(STATE_DIR, "libvirtd-users");
const LIBVIRTD_PIDFILE = "/run/libvirtd.pid";
const VIRTLOGD_PIDFILE = "/run/virtlogd.pid";

let userCounter = 0;

/** Makes sure libvirtd answers on qemu:///system; resolves with a function that undoes only what this call did. */
export async function ensureLibvirtd(): Promise<() => Promise<void>> {
    const user = await withLock(async () => {
        const me = registerUser();
        try {
            if (await libvirtAnswers())
                return { me, started: [] as Daemon[] };
            const started: Daemon[] = [];
            const logd = await startIfNotRunning("virtlogd", "/usr/sbin/virtlogd", VIRTLOGD_PIDFILE);
            if (logd)
                started.push(logd);
            const lvd = await startIfNotRunning("libvirtd", "/usr/sbin/libvirtd", LIBVIRTD_PIDFILE);
            if (lvd)
                started.push(lvd);
            await waitForLibvirt(30_000);
            return { me, started };
        } catch (e) {
            unregisterUser(me);
            throw e;
        }
    });

    let stopped = false;
    return async () => {
        if (stopped)
            return;
        stopped = true;
        await withLock(async () => {
            unregisterUser(user.me);
            if (user.started.length === 0 || liveUsers().length > 0)
                return;  // nothing of ours, or someone still needs them: leave them running
            // libvirtd first: it holds connections to virtlogd.
            for (const d of [...user.started].reverse())
                await stopDaemon(d);
        });
    };
}

/** True when virsh can connect to qemu:///system and get an answer. */
export async function libvirtAnswers(): Promise<boolean> {
    // `virsh version` would do, but it asks for the hypervisor capabilities, which libvirt re-probes on this host
    // (KVM present but unusable) and which then takes 5-20 s; `uri` needs the connection and nothing else.
    const r = await run("virsh", ["-c", LIBVIRT_URI, "uri"], { timeoutMs: 10_000 }).catch(() => null);
    return r?.code === 0;
}

interface Daemon { name: string; pid: number }

async function startIfNotRunning(name: string, binary: string, pidfile: string): Promise<Daemon | null> {
    if (pidFromFile(pidfile, name) !== null)
        return null;
    // -d forks into the background; the parent exits once the daemon has its pidfile (or failed).
    const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(binary, ["-d"], { stdio: "ignore" });
        child.on("error", reject);
        child.on("exit", c => resolve(c));
    });
    const pid = pidFromFile(pidfile, name);
    if (code !== 0) {
        // Lost a race with someone starting it outside our lock: theirs, not ours.
        if (pid !== null)
            return null;
        throw new Error(`${binary} -d failed (exit ${code})`);
    }
    if (pid === null)
        throw new Error(`${binary} -d exited 0 but ${pidfile} names no running ${name}`);
    return { name, pid };
}

async function waitForLibvirt(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(await libvirtAnswers())) {
        if (Date.now() > end)
            throw new Error(`libvirtd did not answer on ${LIBVIRT_URI} within ${timeoutMs} ms`);
        await sleep(200);
    }
}

async function stopDaemon(d: Daemon): Promise<void> {
    // The pid may have been reused, or the daemon restarted by someone else: only signal our process.
    if (!isProcess(d.pid, d.name))
        return;
    process.kill(d.pid, "SIGTERM");
    const end = Date.now() + 15_000;
    while (isProcess(d.pid, d.name)) {
        if (Date.now() > end) {
            process.kill(d.pid, "SIGKILL");
            break;
        }
        await sleep(100);
    }
}

function pidFromFile(pidfile: string, name: string): number | null {
    let text: string;
    try {
        text = fs.readFileSync(pidfile, "utf8");
    } catch {
        return null;
    }
    const pid = Number.parseInt(text.trim(), 10);
    return Number.isInteger(pid) && pid > 0 && isProcess(pid, name) ? pid : null;
}

function isProcess(pid: number, name: string): boolean {
    try {
        const comm = fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        // A zombie has exited already.
        return comm === name && !/^\d+ \(.*\) Z /.test(stat);
    } catch {
        return false;
    }
}


function registerUser(): string {
    fs.mkdirSync(USERS_DIR, { recursive: true });
    const me = `${process.pid}.${++userCounter}`;
    fs.writeFileSync(path.join(USERS_DIR, me), "");
    return me;
}

function unregisterUser(me: string): void {
    fs.rmSync(path.join(USERS_DIR, me), { force: true });
}

/** Registered users whose process still lives; entries of dead processes are removed. */
function liveUsers(): string[] {
    let entries: string[] = [];
    try {
        entries = fs.readdirSync(USERS_DIR);
    } catch {
        return [];
    }
    return entries.filter(e => {
        const pid = Number.parseInt(e, 10);
        if (Number.isInteger(pid) && processAlive(pid))
            return true;
        fs.rmSync(path.join(USERS_DIR, e), { force: true });
        return false;
    });
}

/** A lock between processes: mkdir is atomic; a lock whose owner died is taken over. */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
    fs.mkdirSync(STATE_DIR, { recursive: true });
    const end = Date.now() + 120_000;
    for (;;) {
        try {
            fs.mkdirSync(LOCK_DIR);
            fs.writeFileSync(path.join(LOCK_DIR, "owner"), String(process.pid));
            break;
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST")
                throw e;
        }
        const owner = Number.parseInt(readOr(path.join(LOCK_DIR, "owner"), ""), 10);
        // No owner file means it is being created right now, or its creator died in between.
        if (Number.isInteger(owner) ? !processAlive(owner) : lockAgeMs() > 10_000)
            fs.rmSync(LOCK_DIR, { recursive: true, force: true });
        if (Date.now() > end)
            throw new Error(`timed out waiting for ${LOCK_DIR}`);
        await sleep(100);
    }
    try {
        return await fn();
    } finally {
        fs.rmSync(LOCK_DIR, { recursive: true, force: true });
    }
}

function lockAgeMs(): number {
    try {
        return Date.now() - fs.statSync(LOCK_DIR).mtimeMs;
    } catch {
        return 0;
    }
}

function readOr(file: string, fallback: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        return fallback;
    }
}

function sleep(ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms));
}
