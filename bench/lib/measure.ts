// SPDX-License-Identifier: GPL-3.0-or-later
// Timed child processes for the benchmark: wall time measured here, peak RSS and CPU time reported by GNU
// time (`/usr/bin/time -f "%M %U %S"`: the largest resident set of the process and of the children it waited
// for, and their user and system CPU seconds).
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const GNU_TIME = "/usr/bin/time";

/** One timed run of a tool. */
export interface Measurement {
    wallMs: number;
    /** Peak RSS in bytes (GNU time's %M), null when it could not be read. */
    peakRss: number | null;
    /** User + system CPU seconds of the process (and the children it waited for), null when unknown. */
    cpuSeconds: number | null;
    code: number | null;
    stdout: string;
    stderr: string;
}

/** Children running right now, so an interrupted benchmark can stop them. */
const running = new Set<ChildProcess>();

/** Sends SIGTERM to every child this module started that still runs. */
export function stopRunningChildren(): void {
    for (const child of running)
        child.kill("SIGTERM");
}

/** True when GNU time is installed (Debian package `time`). */
export function haveGnuTime(): boolean {
    return fs.existsSync(GNU_TIME);
}

let rssFileCounter = 0;

/**
 * Runs cmd under GNU time and resolves with its wall time, peak RSS, exit status and output.
 * `after` runs before the clock stops (e.g. waiting for a daemon the tool left writing).
 */
export async function measure(cmd: string, args: readonly string[], opts: { after?: () => Promise<void>; timeoutMs?: number } = {}): Promise<Measurement> {
    const rssFile = path.join(os.tmpdir(), `vnbt-bench-${process.pid}-rss-${++rssFileCounter}`);
    const argv = ["-f", "%M %U %S", "-o", rssFile, cmd, ...args];
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const start = process.hrtime.bigint();
    const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(GNU_TIME, argv, { stdio: ["ignore", "pipe", "pipe"] });
        running.add(child);
        const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => err.push(b));
        child.on("error", e => {
            running.delete(child);
            clearTimeout(timer);
            reject(new Error(`cannot run ${cmd}: ${e.message}`));
        });
        child.on("close", c => {
            running.delete(child);
            clearTimeout(timer);
            resolve(c);
        });
    });
    if (opts.after)
        await opts.after();
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    let peakRss: number | null = null;
    let cpuSeconds: number | null = null;
    try {
        // On a non-zero exit GNU time writes "Command exited with non-zero status N" before the values.
        const lines = fs.readFileSync(rssFile, "utf8").trim().split("\n");
        const [kib, user, sys] = (lines[lines.length - 1] ?? "").split(" ").map(Number);
        peakRss = Number.isFinite(kib) ? kib! * 1024 : null;
        cpuSeconds = Number.isFinite(user) && Number.isFinite(sys) ? user! + sys! : null;
    } catch {
        // no numbers: the row shows "?"
    } finally {
        fs.rmSync(rssFile, { force: true });
    }
    return { wallMs, peakRss, cpuSeconds, code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

/** Like measure(), but rejects with the tool's last stderr lines on a non-zero exit. */
export async function measureOk(label: string, cmd: string, args: readonly string[], opts: { after?: () => Promise<void>; timeoutMs?: number } = {}): Promise<Measurement> {
    const m = await measure(cmd, args, opts);
    if (m.code !== 0) {
        const detail = (m.stderr.trim() || m.stdout.trim()).split("\n").slice(-8).join("\n");
        throw new Error(`${label} failed (exit ${m.code}): ${cmd} ${args.join(" ")}\n${detail}`);
    }
    return m;
}

/** Median, minimum and maximum of some numbers. */
export interface Stats {
    median: number;
    min: number;
    max: number;
    n: number;
}

export function stats(values: number[]): Stats {
    if (values.length === 0)
        throw new Error("no values");
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}
