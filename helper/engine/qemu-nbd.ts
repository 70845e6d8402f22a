// SPDX-License-Identifier: GPL-3.0-or-later
// A qemu-nbd server for one image on a unix socket in a private temporary directory. stop() ends the
// server and removes the directory; it is safe to call on every path, any number of times.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { terminateChild } from "../tools/proc.ts";

export interface QemuNbdOptions {
    /** Image format: qcow2 or raw (never probed: a raw image could pretend to be qcow2). */
    format: string;
    /** Export name; default "". */
    exportName?: string;
    /** Host cache mode; default writeback (the client flushes at the end). */
    cache?: "none" | "writeback" | "unsafe" | "directsync" | "writethrough";
    /** Connections allowed at once; default 4. */
    shared?: number;
    /** Export read-only. */
    readOnly?: boolean;
    /** Also export this persistent dirty bitmap of the image, as qemu:dirty-bitmap:<name>. */
    bitmap?: string;
    /** Give up when the socket does not appear within this long; default 30 s. */
    startTimeoutMs?: number;
}

export class QemuNbdServer {
    private exited: Promise<void>;
    private stopped = false;
    private stderr = "";

    private constructor(private readonly child: ChildProcess, readonly dir: string, readonly socket: string, readonly exportName: string) {
        this.exited = new Promise(resolve => {
            if (child.exitCode !== null || child.signalCode !== null)
                resolve();
            else
                child.once("exit", () => resolve());
        });
        child.stderr?.on("data", (b: Buffer) => {
            this.stderr = (this.stderr + b.toString("utf8")).slice(-4000);
        });
    }

    /** nbd+unix URI of the export. */
    get uri(): string {
        return `nbd+unix:///${encodeURIComponent(this.exportName)}?socket=${encodeURIComponent(this.socket)}`;
    }

    get pid(): number | undefined {
        return this.child.pid;
    }

    /** What qemu-nbd printed on stderr (last few KiB). */
    get log(): string {
        return this.stderr.trim();
    }

    static async start(image: string, options: QemuNbdOptions): Promise<QemuNbdServer> {
        const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "vnbd-restore-"));
        const socket = path.join(dir, "nbd.sock");
        const exportName = options.exportName ?? "";
        const args = [
            `--socket=${socket}`,
            `--format=${options.format}`,
            `--export-name=${exportName}`,
            `--cache=${options.cache ?? "writeback"}`,
            "--aio=threads",
            "--discard=unmap",
            `--shared=${options.shared ?? 4}`,
            // Without it qemu-nbd exits when the first client disconnects; we stop it ourselves.
            "--persistent",
            ...(options.readOnly ? ["--read-only"] : []),
            ...(options.bitmap ? [`--bitmap=${options.bitmap}`] : []),
            image,
        ];
        let child: ChildProcess;
        try {
            child = spawn("qemu-nbd", args, { stdio: ["ignore", "ignore", "pipe"] });
        } catch (err) {
            await fsp.rm(dir, { recursive: true, force: true });
            throw err;
        }
        const server = new QemuNbdServer(child, dir, socket, exportName);
        try {
            await server.waitForSocket(options.startTimeoutMs ?? 30_000);
        } catch (err) {
            await server.stop();
            throw err;
        }
        return server;
    }

    private async waitForSocket(timeoutMs: number): Promise<void> {
        const end = Date.now() + timeoutMs;
        let spawnError: Error | undefined;
        this.child.once("error", e => {
            spawnError = e;
        });
        for (;;) {
            if (spawnError)
                throw new Error(`cannot run qemu-nbd: ${spawnError.message}`);
            if (this.child.exitCode !== null || this.child.signalCode !== null) {
                await this.exited;
                throw new Error(`qemu-nbd exited (${this.child.exitCode ?? this.child.signalCode}) before serving: ${this.log || "no message"}`);
            }
            // The socket file appears at bind(), a moment before listen(): only a connection that is
            // accepted shows the server ready (under load, connecting in between is refused).
            if (fs.existsSync(this.socket) && await accepts(this.socket))
                return;
            if (Date.now() > end)
                throw new Error(`qemu-nbd did not create ${this.socket} within ${timeoutMs} ms`);
            await new Promise(resolve => setTimeout(resolve, 20));
        }
    }

    /** Ends the server (SIGTERM, SIGKILL after `graceMs`) and removes its directory. */
    async stop(graceMs = 10_000): Promise<void> {
        if (!this.stopped) {
            this.stopped = true;
            await terminateChild(this.child, this.exited, graceMs);
        }
        await this.exited;
        await fsp.rm(this.dir, { recursive: true, force: true });
    }

    /** Kills the server at once without waiting (for process exit paths); the directory is removed. */
    killNow(): void {
        this.stopped = true;
        if (this.child.exitCode === null && this.child.signalCode === null)
            this.child.kill("SIGKILL");
        try {
            fs.rmSync(this.dir, { recursive: true, force: true });
        } catch {
            // best effort at exit
        }
    }
}

/** Whether a unix socket accepts a connection (closed again at once). */
export function accepts(socket: string): Promise<boolean> {
    return new Promise(resolve => {
        const probe = net.connect(socket);
        probe.once("connect", () => {
            probe.destroy();
            resolve(true);
        });
        probe.once("error", () => {
            probe.destroy();
            resolve(false);
        });
    });
}
