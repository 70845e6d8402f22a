// SPDX-License-Identifier: GPL-3.0-or-later
// nbdkit running our plugin (nbdkit-plugin/) for one map index, read-only, on a unix socket. It exits
// with its parent (--exit-with-parent: even when the parent is killed with SIGKILL), so a mapping never
// outlives the process that made it.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { pluginPath } from "nbdkit-virtnbdbackup-plugin";
import { accepts } from "../engine/qemu-nbd.ts";
import { terminateChild } from "../tools/proc.ts";

const START_TIMEOUT_MS = 30_000;

/**
 * nbdkit before 1.33.10 aborts (SIGABRT, every client of the server gone) when a client hangs up while
 * several of its requests are in flight (nbdkit commit 9d82aa4f, Red Hat bug 2173054): nbdcopy does that
 * after a read error, qemu when its VM is killed. One worker thread per connection cannot race so;
 * clients still read in parallel over several connections (the plugin allows multi-conn).
 */
export function needsOneThreadPerConnection(version: string): boolean {
    const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
    if (!m)
        return true;
    const [major, minor, patch] = m.slice(1).map(Number);
    return major === 1 && (minor < 33 || (minor === 33 && patch < 10));
}

let threadArgs: string[] | undefined;

/** `--threads=1` where this host's nbdkit needs it; asked once per process. */
function workerThreadArgs(): string[] {
    if (threadArgs === undefined) {
        let version = "";
        try {
            // "nbdkit 1.32.5"
            version = execFileSync("nbdkit", ["--version"], { encoding: "utf8", timeout: 10_000 }).trim().split(/\s+/).at(-1) ?? "";
        } catch {
            // start() reports a missing nbdkit with its own words
        }
        threadArgs = needsOneThreadPerConnection(version) ? ["--threads=1"] : [];
    }
    return threadArgs;
}

export class NbdkitServer {
    private stderr = "";
    private readonly exited: Promise<void>;

    private constructor(private readonly child: ChildProcess, readonly socket: string) {
        this.exited = new Promise(resolve => {
            child.once("close", () => resolve());
            child.once("error", () => resolve());  // never spawned: nothing to wait for
        });
        child.stderr?.on("data", (b: Buffer) => {
            this.stderr = (this.stderr + b.toString("utf8")).slice(-4000);
        });
    }

    get pid(): number {
        return this.child.pid ?? 0;
    }

    /** nbd+unix URI of the disk (nbdkit serves the plugin under any export name). */
    get uri(): string {
        return `nbd+unix:///?socket=${encodeURIComponent(this.socket)}`;
    }

    /** The plugin's (or nbdkit's) last error line, without nbdkit's prefix. */
    get error(): string {
        const lines = this.stderr.split("\n").filter(l => l.trim());
        const errors = lines.filter(l => /\berror: /.test(l));
        return (errors.at(-1) ?? lines.at(-1) ?? "").replace(/^.*?\berror: /, "").trim();
    }

    /** Starts nbdkit and waits until it accepts connections; `onSpawn` gets its pid at once (for the record). */
    static async start(index: string, socket: string, onSpawn: (pid: number) => void): Promise<NbdkitServer> {
        const args = ["--foreground", "--readonly", "--exit-with-parent", ...workerThreadArgs(), "--unix", socket, pluginPath(), `index=${index}`];
        const child = spawn("nbdkit", args, { stdio: ["ignore", "ignore", "pipe"] });
        const server = new NbdkitServer(child, socket);
        let spawnError: Error | undefined;
        child.once("error", e => {
            spawnError = e;
        });
        if (child.pid)
            onSpawn(child.pid);
        try {
            for (const end = Date.now() + START_TIMEOUT_MS; ;) {
                if (spawnError)
                    throw new Error(`cannot run nbdkit: ${spawnError.message}`);
                if (child.exitCode !== null || child.signalCode !== null) {
                    await server.exited;
                    throw new Error(server.error || `nbdkit exited (${child.exitCode ?? child.signalCode}) before serving`);
                }
                if (fs.existsSync(socket) && await accepts(socket))
                    return server;
                if (Date.now() > end)
                    throw new Error(`nbdkit did not serve ${socket} within ${START_TIMEOUT_MS / 1000} s`);
                await new Promise(resolve => setTimeout(resolve, 10));
            }
        } catch (err) {
            await server.stop();
            throw err;
        }
    }

    /** Ends the server (SIGTERM, SIGKILL after `graceMs`); safe to call any number of times. */
    stop(graceMs = 5_000): Promise<void> {
        return terminateChild(this.child, this.exited, graceMs);
    }

    /** Kills the server without waiting (process exit paths). */
    killNow(): void {
        if (this.child.exitCode === null && this.child.signalCode === null)
            this.child.kill("SIGKILL");
    }
}
