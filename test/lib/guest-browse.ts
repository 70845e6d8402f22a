// SPDX-License-Identifier: GPL-3.0-or-later
// Browsing restored disks in tests: a real NBD server (qemu-nbd, read-only) serving an image on a unix
// socket, as the map plugin will serve a restore point; the built helper's browse commands; and what a
// browse session may leave on the host (mounts, loop devices, qemu-storage-daemon, session folders).
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { run, runOk, type RunResult } from "./exec.ts";
import { ourCli } from "./backup-cli.ts";
import { BROWSE_DIR } from "../../helper/browse/paths.ts";

export const HELPER = path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");

let serverCount = 0;

/** A read-only NBD server on a unix socket. */
export interface NbdServer {
    socket: string;
    stop(): Promise<void>;
}

/** Serves `image` read-only with qemu-nbd on a socket in `dir` (a folder only root can change). */
export async function serveImage(image: string, format: "raw" | "qcow2", dir: string): Promise<NbdServer> {
    const socket = path.join(dir, `${path.basename(image)}-${++serverCount}.sock`);
    const child = spawn("qemu-nbd", ["--read-only", "--persistent", "--shared=4", "-k", socket, "-f", format, image], { stdio: "ignore" });
    for (let i = 0; i < 100 && !fs.existsSync(socket); i++)
        await new Promise(resolve => setTimeout(resolve, 100));
    if (!fs.existsSync(socket)) {
        child.kill("SIGKILL");
        throw new Error(`qemu-nbd made no socket for ${image}`);
    }
    return {
        socket,
        stop: () => new Promise<void>(resolve => {
            if (child.exitCode !== null || child.signalCode !== null)
                return resolve();
            child.on("exit", () => resolve());
            child.kill("SIGTERM");
        }),
    };
}

export function helper(args: string[]): Promise<RunResult> {
    return run(process.execPath, [HELPER, ...args], { timeoutMs: 120_000 });
}

export async function helperJson<T>(args: string[]): Promise<T> {
    const r = await runOk(process.execPath, [HELPER, ...args], { timeoutMs: 120_000 });
    return JSON.parse(r.stdout) as T;
}

/** The helper's stdout as bytes (a file or a tar archive), or its error line. */
export function helperBytes(args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [HELPER, ...args], { stdio: ["ignore", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => err.push(b));
        child.on("error", reject);
        child.on("close", code => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8") }));
    });
}

/** The browse mounts now (FUSE disks and guest file systems), read without a child process. */
export function browseMounts(): string[] {
    return fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")
            .map(l => l.split(" ")[4] ?? "").filter(m => m.startsWith(`${BROWSE_DIR}/`));
}

export interface OpenedSession {
    session: string;
    volumes: { id: string; type?: string; label?: string; mounted: boolean; reason?: string; offset: number; size: number }[];
}

/** What browse sessions hold on the host right now: it must all be empty when none is open. */
export async function browseLeftovers(): Promise<{ mounts: string[]; loops: string[]; daemons: string[]; sessions: string[]; keepers: string[] }> {
    const mounts = browseMounts();
    const losetup = (await runOk("losetup", ["--list", "--json", "--output", "NAME,BACK-FILE"])).stdout;
    const loops = losetup.trim() === "" ? [] : (JSON.parse(losetup) as { loopdevices: { name: string; "back-file": string | null }[] }).loopdevices
            .filter(l => (l["back-file"] ?? "").startsWith(`${BROWSE_DIR}/`)).map(l => `${l.name} ${l["back-file"]}`);
    const pgrep = async (pattern: string) => (await run("pgrep", ["-a", "-f", pattern])).stdout.split("\n").filter(Boolean);
    const daemons = await pgrep(`qemu-storage-daemon.*${BROWSE_DIR}/`);
    const keepers = await pgrep(`${HELPER} browse-keep`);
    const sessions = fs.existsSync(BROWSE_DIR) ? fs.readdirSync(BROWSE_DIR) : [];
    return { mounts, loops, daemons, sessions, keepers };
}
