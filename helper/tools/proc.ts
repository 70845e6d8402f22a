// SPDX-License-Identifier: GPL-3.0-or-later
// What /proc says about a process: before the helper (root) signals a pid taken from a file, it makes
// sure the pid is still our backup CLI for that VM and not a process that reused the number. Whether the
// process a record under /run/virtnbdbackup names still runs is decided by processLiveness alone: the
// folder may be shared with a helper in another PID namespace, whose records are never taken for leftovers.
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

/**
 * A process named in a record under /run/virtnbdbackup: pid, start time (so a reused pid is not taken for
 * it) and PID namespace. The folder may be shared with a helper in another PID namespace (a container that
 * bind-mounts the host's /run): there the pid means another process or none, so a record naming another
 * namespace is never judged from this one's /proc.
 */
export interface ProcessRef {
    pid: number;
    /** /proc/<pid>/stat field 22; null or absent: not recorded (only the pid is compared). */
    start?: string | number | null;
    /** Inode of the writer's /proc/self/ns/pid; absent in records of older versions (taken as this one's). */
    pidNs?: number;
}

/** What a record's process is, seen from here. */
export type Liveness = "running" | "gone" | "other-namespace";

let ownPidNs: number | null | undefined;

/** The inode of this process's PID namespace, or null when /proc does not say. */
export function pidNamespace(): number | null {
    if (ownPidNs === undefined) {
        try {
            ownPidNs = fs.statSync("/proc/self/ns/pid").ino;
        } catch {
            ownPidNs = null;
        }
    }
    return ownPidNs;
}

/** This process, as a record names it. */
export function currentProcess(): { pid: number; start: string | null; pidNs?: number } {
    return { pid: process.pid, start: processStartTime(process.pid), ...pidNsField() };
}

/** `{ pidNs }` for a record that names a process of this namespace by pid only (empty when unknown). */
export function pidNsField(): { pidNs?: number } {
    const ns = pidNamespace();
    return ns === null ? {} : { pidNs: ns };
}

/**
 * The one judge of a record's process: "gone" only when it is of this PID namespace (or the record is older
 * than the field) and /proc here shows no such process, a zombie, or another one under its pid.
 */
export function processLiveness(ref: ProcessRef): Liveness {
    if (ref.pidNs !== undefined && ref.pidNs !== pidNamespace())
        return "other-namespace";
    if (!Number.isSafeInteger(ref.pid) || ref.pid <= 0)
        return "gone";
    const now = processStartTime(ref.pid);
    if (now === null)
        return "gone";
    return ref.start === undefined || ref.start === null || String(ref.start) === now ? "running" : "gone";
}

/** Whether a record's process may still run: true also for one of another PID namespace (never swept). */
export function processRunning(ref: ProcessRef | undefined): boolean {
    return ref !== undefined && processLiveness(ref) !== "gone";
}

/** Why a record whose process runs in another PID namespace is left alone: for commands that would remove it. */
export function otherNamespaceMessage(what: string, ref: ProcessRef): string {
    return `${what} belongs to process ${ref.pid} in another PID namespace (pid:[${ref.pidNs}]): ` +
        "it is left alone here; remove it from that namespace";
}

/** A lock file's holder line: "pid pidNs" (older versions wrote the pid alone; flock decides who holds it). */
export function holderLine(): string {
    const ns = pidNamespace();
    return ns === null ? `${process.pid}\n` : `${process.pid} ${ns}\n`;
}

/** The process a holder line names, or undefined when it names none. */
export function parseHolderLine(text: string): ProcessRef | undefined {
    const [pidText, nsText] = text.trim().split(/\s+/);
    const pid = Number(pidText);
    if (!Number.isSafeInteger(pid) || pid <= 0)
        return undefined;
    const pidNs = Number(nsText);
    return nsText !== undefined && Number.isSafeInteger(pidNs) && pidNs > 0 ? { pid, pidNs } : { pid };
}
