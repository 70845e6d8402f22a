// SPDX-License-Identifier: GPL-3.0-or-later
// Test fixtures: real NBD servers (nbdkit, qemu-nbd) on Unix sockets in a private temp folder.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { after, before } from "node:test";
import type { Handle } from "libnbd-node";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";

export interface TempDir {
    dir: string;
    remove(): void;
}

export function makeTempDir(): TempDir {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-`));
    return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface Server {
    socket: string;
    /** nbd+unix URI for the default export */
    uri: string;
    stop(): Promise<void>;
}

let serial = 0;

/** nbdkit in the foreground, serving PLUGIN ARGS... on a fresh socket in `dir`. */
export function startNbdkit(dir: string, pluginArgs: string[]): Promise<Server> {
    const socket = path.join(dir, `nbdkit-${++serial}.sock`);
    const pidFile = `${socket}.pid`;
    const child = spawn("nbdkit", ["-U", socket, "-P", pidFile, "-f", "--exit-with-parent", ...pluginArgs], {
        stdio: ["ignore", "ignore", "pipe"],
    });
    return serve(child, socket, pidFile, "");
}

/** qemu-nbd in the foreground (no --fork, so this process owns it) serving `qemuNbdArgs`. */
export function startQemuNbd(dir: string, qemuNbdArgs: string[], exportName = ""): Promise<Server> {
    const socket = path.join(dir, `qemu-nbd-${++serial}.sock`);
    const pidFile = `${socket}.pid`;
    const nameArgs = exportName ? ["-x", exportName] : [];
    const child = spawn("qemu-nbd", ["-k", socket, "--pid-file", pidFile, "--persistent", ...nameArgs, ...qemuNbdArgs], {
        stdio: ["ignore", "ignore", "pipe"],
    });
    return serve(child, socket, pidFile, exportName);
}

// Both servers write their pid file once the socket accepts connections.
async function serve(child: ChildProcess, socket: string, pidFile: string, exportName: string): Promise<Server> {
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
    const exited = new Promise<void>(resolve => child.once("exit", () => resolve()));
    let gone = false;
    void exited.then(() => { gone = true; });

    const deadline = Date.now() + 15_000;
    for (;;) {
        if (gone) throw new Error(`${child.spawnfile} exited before listening: ${stderr}`);
        if (fs.existsSync(pidFile) && fs.readFileSync(pidFile, "utf8").trim() === String(child.pid)) break;
        if (Date.now() > deadline) {
            child.kill("SIGKILL");
            throw new Error(`${child.spawnfile} did not listen on ${socket}: ${stderr}`);
        }
        await new Promise(resolve => setTimeout(resolve, 20));
    }
    const uri = `nbd+unix:///${encodeURIComponent(exportName)}?socket=${encodeURIComponent(socket)}`;
    return {
        socket,
        uri,
        async stop() {
            if (gone) return;
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
            await exited;
            clearTimeout(timer);
        },
    };
}

export function run(command: string, args: string[]): string {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Extent list as nbdinfo prints it for `uri` (another libnbd client, for comparison). */
export interface MapEntry { offset: number; length: number; type: number }

export function nbdinfoMap(uri: string, context = "base:allocation"): MapEntry[] {
    const json = run("nbdinfo", [`--map=${context}`, "--json", uri]);
    return (JSON.parse(json) as MapEntry[]).map(e => ({ offset: e.offset, length: e.length, type: e.type }));
}

/** Joins neighbours with equal type, so that two ways of chunking the same map compare equal. */
export function mergeMap(entries: MapEntry[]): MapEntry[] {
    const merged: MapEntry[] = [];
    for (const e of entries) {
        const last = merged.at(-1);
        if (last && last.type === e.type && last.offset + last.length === e.offset) {
            last.length += e.length;
        } else {
            merged.push({ ...e });
        }
    }
    return merged;
}

/** The `pattern` plugin's content: each 8-byte big-endian word holds its own offset. */
export function patternBytes(offset: number, length: number): Buffer {
    const start = Math.floor(offset / 8) * 8;
    const words = Buffer.alloc(Math.ceil((offset + length - start) / 8) * 8);
    for (let i = 0; i < words.length; i += 8) words.writeBigUInt64BE(BigInt(start + i), i);
    return words.subarray(offset - start, offset - start + length);
}

/** A full garbage collection now, with or without --expose-gc (finalizers of dropped handles run after it). */
export function gcNow(): void {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) return gc();
    v8.setFlagsFromString("--expose-gc");
    (vm.runInNewContext("gc") as () => void)();
}

/** What a test file's tests share: a temp dir, and the servers and handles they start, stopped after them. */
export interface TestBed {
    readonly tmp: TempDir;
    readonly servers: Server[];
    readonly handles: Handle[];
}

/** Makes the temp dir before the file's tests; closes the handles, stops the servers, removes the dir after. */
export function useTestBed(): TestBed {
    let tmp: TempDir | undefined;
    const servers: Server[] = [];
    const handles: Handle[] = [];
    before(() => { tmp = makeTempDir(); });
    after(async () => {
        for (const h of handles) h.close();
        for (const s of servers) await s.stop();
        tmp?.remove();
    });
    return {
        get tmp() {
            if (!tmp) throw new Error("the test bed's temp dir exists only while the tests run");
            return tmp;
        },
        servers,
        handles,
    };
}
