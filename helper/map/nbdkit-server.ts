// SPDX-License-Identifier: GPL-3.0-or-later
// nbdkit running our plugin (nbdkit-plugin/) for one map index, read-only, on a unix socket. It exits
// with its parent (--exit-with-parent: even when the parent is killed with SIGKILL), so a mapping never
// outlives the process that made it.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { pluginPath } from "nbdkit-virtnbdbackup-plugin";
import { accepts } from "../engine/qemu-nbd.ts";
import { terminateChild } from "../tools/proc.ts";

const START_TIMEOUT_MS = 30_000;

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
        const args = ["--foreground", "--readonly", "--exit-with-parent", "--unix", socket, pluginPath(), `index=${index}`];
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
