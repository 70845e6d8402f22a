// SPDX-License-Identifier: GPL-3.0-or-later
// One interactive virsh (its shell, commands written to stdin) for the many short calls of one run: one
// process and one libvirt connection instead of one of each per call (a virsh start and connect costs
// ~18 ms here; a backup run makes five calls, two of them its floor's). virsh's shell echoes every line it
// reads after its prompt and flushes before each prompt; each command is followed by `echo --err MARKER`,
// so a command's stdout ends where that line is echoed and its stderr where "error: MARKER" arrives.
// Not -q: quiet virsh also drops table headers. Without it, the shell prints what one-shot virsh prints
// (the empty line after each command included), plus a banner before its first prompt.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import { privateDir, VIRSH_CACHE_DIR } from "../backup/run-dir.ts";

export interface SessionAnswer {
    stdout: string;
    stderr: string;
}

/**
 * virsh's shell keeps a readline history of 500 lines in $XDG_CACHE_HOME/libvirt/virsh/history (root's home by
 * default): every run's commands and markers pushed the admin's own virsh commands out of it. The shell gets a
 * cache folder of its own in the root-only run folder; where there is none (not root), the user's own, as before.
 */
function shellEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: "C" };
    try {
        env.XDG_CACHE_HOME = privateDir(VIRSH_CACHE_DIR);
    } catch {
        // keep the user's
    }
    return env;
}

/**
 * Pure: splits what the shell printed into answers, one per command written. `expect(marker)` is called
 * for each command in the order written; `take()` returns the oldest answer once both its stdout and stderr
 * are complete.
 */
export class ShellTranscript {
    private out = "";
    private err = "";
    private readonly markers: string[] = [];
    /** The shell's prompt ("virsh # "), learned from the first answer (which is the start-up's). */
    private prompt: string | undefined;

    constructor(private readonly learnPrompt = true) {}

    expect(marker: string): void {
        this.markers.push(marker);
    }

    addStdout(text: string): void {
        this.out += text;
    }

    addStderr(text: string): void {
        this.err += text;
    }

    /** The oldest command's answer, when complete; undefined otherwise. */
    take(): SessionAnswer | undefined {
        const marker = this.markers[0];
        if (marker === undefined)
            return undefined;
        const echoed = `echo --err ${marker}\n`;
        const errLine = `error: ${marker}\n`;
        const outEnd = this.out.indexOf(echoed);
        const errEnd = this.err.indexOf(errLine);
        if (outEnd < 0 || errEnd < 0)
            return undefined;
        this.markers.shift();
        let stdout = this.out.slice(0, outEnd);
        const stderr = this.err.slice(0, errEnd);
        this.out = this.out.slice(outEnd + echoed.length);
        this.err = this.err.slice(errEnd + errLine.length);
        if (this.prompt === undefined && this.learnPrompt) {
            // The start-up answer: whatever came before the marker's prompt, then the prompt itself.
            this.prompt = stdout.slice(stdout.lastIndexOf("\n") + 1);
            return { stdout: "", stderr };
        }
        const prompt = this.prompt ?? "";
        // "\n" (the end of the marker command before) "<prompt><command>\n<output><prompt>" before the marker's echo.
        if (stdout.startsWith(`\n${prompt}`))
            stdout = stdout.slice(1);
        if (stdout.startsWith(prompt))
            stdout = stdout.slice(stdout.indexOf("\n") + 1);
        if (prompt !== "" && stdout.endsWith(prompt))
            stdout = stdout.slice(0, stdout.length - prompt.length);
        return { stdout, stderr };
    }
}

/** The shell could not run a command. `started`: it had it already (it may have run, in part or whole). */
export class SessionClosedError extends Error {
    override readonly name = "SessionClosedError";
    constructor(message: string, readonly started = false) {
        super(message);
    }
}

interface Pending {
    marker: string;
    resolve: (a: SessionAnswer) => void;
    reject: (e: Error) => void;
    timer?: NodeJS.Timeout;
}

/**
 * A virsh shell on `uri`. Commands run one at a time, in the order asked. A command that outlives its
 * timeout kills the shell; a shell that exits or could not connect at its start serves no more commands.
 * Either way they fail with SessionClosedError: `started` when the shell had the command (it may have
 * run), else the caller can run it on its own.
 */
export class VirshSession {
    private readonly child: ChildProcessWithoutNullStreams;
    private readonly transcript = new ShellTranscript();
    private readonly pending: Pending[] = [];
    private readonly prefix = `@@vnb-session-${randomBytes(6).toString("hex")}`;
    private count = 0;
    private closedBy: string | undefined;
    /** Resolves once the shell answered its start-up marker; false when it could not connect. */
    readonly ready: Promise<boolean>;

    constructor(readonly uri: string) {
        this.child = spawn("virsh", ["-c", uri], { env: shellEnv(), stdio: ["pipe", "pipe", "pipe"] });
        this.child.stdout.setEncoding("utf8");
        this.child.stderr.setEncoding("utf8");
        this.child.stdout.on("data", (t: string) => { this.transcript.addStdout(t); this.deliver(); });
        this.child.stderr.on("data", (t: string) => { this.transcript.addStderr(t); this.deliver(); });
        this.child.on("error", e => this.fail(`cannot run virsh: ${e.message}`));
        this.child.on("close", () => this.fail("the virsh shell exited"));
        this.child.stdin.on("error", () => {});
        this.ready = this.send("", 60_000).then(a => !/^error:/m.test(a.stderr), () => false);
        this.ready.then(ok => {
            if (!ok)
                this.close();
        });
        this.idle();
    }

    /** The shell's process. */
    get pid(): number | undefined {
        return this.child.pid;
    }

    /**
     * Runs one command line (already quoted; no newline); rejects with SessionClosedError when the shell cannot.
     * Its timeout counts from now: the shell runs the commands asked before it first.
     */
    run(commandLine: string, timeoutMs: number): Promise<SessionAnswer> {
        if (commandLine.includes("\n") || commandLine.includes("\r"))
            return Promise.reject(new SessionClosedError("a command with a line break cannot go through the virsh shell"));
        return this.ready.then(ok => ok ? this.send(commandLine, timeoutMs) : Promise.reject(new SessionClosedError(this.closedBy ?? "the virsh shell could not connect")));
    }

    /** Ends the shell (it exits at the end of its input); commands still asked fail with SessionClosedError. */
    close(): void {
        if (this.closedBy === undefined)
            this.closedBy = "the virsh shell was closed";
        this.child.stdin.end();
        for (const p of this.pending.splice(0))
            this.settle(p, new SessionClosedError(this.closedBy, true));
        this.idle();
    }

    private send(commandLine: string, timeoutMs: number): Promise<SessionAnswer> {
        if (this.closedBy !== undefined)
            return Promise.reject(new SessionClosedError(this.closedBy));
        const marker = `${this.prefix}-${this.count++}`;
        return new Promise<SessionAnswer>((resolve, reject) => {
            const p: Pending = { marker, resolve, reject };
            p.timer = setTimeout(() => {
                this.fail(`virsh did not answer within ${timeoutMs / 1000} s`);
                this.child.kill("SIGKILL");
            }, timeoutMs);
            this.pending.push(p);
            this.transcript.expect(marker);
            this.busy();
            this.child.stdin.write(`${commandLine ? `${commandLine}\n` : ""}echo --err ${marker}\n`);
        });
    }

    private deliver(): void {
        for (let a = this.transcript.take(); a; a = this.transcript.take()) {
            const p = this.pending.shift();
            if (!p)
                break;
            clearTimeout(p.timer);
            p.resolve(a);
        }
        if (this.pending.length === 0)
            this.idle();
    }

    private fail(why: string): void {
        this.closedBy ??= why;
        for (const p of this.pending.splice(0))
            this.settle(p, new SessionClosedError(why, true));
        this.idle();
    }

    private settle(p: Pending, err: Error): void {
        clearTimeout(p.timer);
        p.reject(err);
    }

    /** An idle shell does not keep the process alive (it exits with it, at the end of its input). */
    private idle(): void {
        this.child.unref();
        (this.child.stdout as unknown as { unref?: () => void }).unref?.();
        (this.child.stderr as unknown as { unref?: () => void }).unref?.();
        (this.child.stdin as unknown as { unref?: () => void }).unref?.();
    }

    private busy(): void {
        this.child.ref();
        (this.child.stdout as unknown as { ref?: () => void }).ref?.();
        (this.child.stderr as unknown as { ref?: () => void }).ref?.();
    }
}
