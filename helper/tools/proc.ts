// SPDX-License-Identifier: GPL-3.0-or-later
// What /proc says about a process: before the helper (root) signals a pid taken from a file, it makes
// sure the pid is still our backup CLI for that VM and not a process that reused the number.
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** argv of a live process, or null when it is gone. */
export function processArgv(pid: number): string[] | null {
    try {
        const raw = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
        const argv = raw.split("\0");
        if (argv[argv.length - 1] === "")
            argv.pop();  // cmdline ends with a NUL
        return argv;
    } catch {
        return null;
    }
}

/** Parent pid and session id from /proc/<pid>/stat, or null when the process is gone. */
export function processStat(pid: number): { ppid: number; sid: number } | null {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        // "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses.
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return { ppid: Number(fields[1]), sid: Number(fields[3]) };
    } catch {
        return null;
    }
}

/** Whether argv is `node .../virtnbdbackup.js --json -d <domain> ...` as the runner starts it. */
export function isBackupCli(argv: string[], domain: string): boolean {
    if (argv.length < 4 || !/^node/.test(path.basename(argv[0] ?? "")))
        return false;
    if (path.basename(argv[1] ?? "") !== "virtnbdbackup.js" || argv[2] !== "--json")
        return false;
    const d = argv.indexOf("-d");
    return d > 0 && argv[d + 1] === domain;
}

/** Whether `pid` is our backup CLI for `domain`, started by `runnerPid` (when known). */
export function isOurBackupProcess(pid: number, domain: string, runnerPid: number | null): boolean {
    const argv = processArgv(pid);
    if (!argv || !isBackupCli(argv, domain))
        return false;
    return runnerPid === null || processStat(pid)?.ppid === runnerPid;
}

/** When the process started (clock ticks since boot, /proc/<pid>/stat field 22), or null when it is gone. */
export function processStartTime(pid: number): string | null {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses; field 22 is the 20th after it.
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        // A zombie (killed, not yet reaped by whoever adopted it: a PID 1 may take its time) no longer runs.
        if (fields[0] === "Z" || fields[0] === "X")
            return null;
        return fields[19] ?? null;
    } catch {
        return null;
    }
}

/** Ends a child we started: SIGTERM, SIGKILL after `graceMs`; resolves once `exited` does. */
export async function terminateChild(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
    }
    await exited;
}
