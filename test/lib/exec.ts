// SPDX-License-Identifier: GPL-3.0-or-later
// Child processes for tests: argv arrays only (never a shell), output collected as text.
import { spawn } from "node:child_process";

/** Options for run()/runOk(). */
export interface RunOptions {
    /** Text or bytes written to the child's stdin (stdin is closed afterwards). */
    input?: string | Buffer;
    /** Kill the child (SIGKILL) after this many milliseconds; the result then has code null and timedOut. */
    timeoutMs?: number;
    /** Extra environment variables, merged over process.env. */
    env?: NodeJS.ProcessEnv;
    /** Working directory of the child. */
    cwd?: string;
}

/** What a finished child produced. */
export interface RunResult {
    stdout: string;
    stderr: string;
    /** Exit status; null when the child was killed by a signal. */
    code: number | null;
    /** The signal that ended the child, if any. */
    signal: NodeJS.Signals | null;
    /** True when timeoutMs ran out and the child was killed. */
    timedOut: boolean;
}

/** Runs cmd with args and resolves with its output and exit status (never rejects on a non-zero exit). */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, {
            cwd: opts.cwd,
            env: opts.env ? { ...process.env, ...opts.env } : process.env,
            stdio: ["pipe", "pipe", "pipe"],
        });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let timedOut = false;
        const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
        }, opts.timeoutMs);
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => err.push(b));
        child.on("error", e => {
            clearTimeout(timer);
            reject(new Error(`cannot run ${cmd}: ${e.message}`));
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({
                stdout: Buffer.concat(out).toString("utf8"),
                stderr: Buffer.concat(err).toString("utf8"),
                code,
                signal,
                timedOut,
            });
        });
        // A child that exits without reading its stdin must not crash us with EPIPE.
        child.stdin.on("error", () => {});
        child.stdin.end(opts.input);
    });
}

/** Like run(), but rejects with the command line and its stderr when the exit status is not 0. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const r = await run(cmd, args, opts);
    if (r.code !== 0) {
        const why = r.timedOut ? `timed out after ${opts.timeoutMs} ms` :
            r.code === null ? `killed by ${r.signal}` : `exit ${r.code}`;
        const detail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-20).join("\n");
        throw new Error(`${cmd} ${args.join(" ")}: ${why}${detail ? `\n${detail}` : ""}`);
    }
    return r;
}
