// SPDX-License-Identifier: GPL-3.0-or-later
// The demo's cockpit-ws, kept usable for as long as the demo runs. cockpit-ws with --local-session ends its
// bridge ~15–20 s after the last browser tab closes and then answers every visit with a login page (401), so
// the demo runs it under a small supervisor (a detached process of its own) that checks the plugin's manifest
// every 2 s and starts a fresh cockpit-ws on the same port when the answer is not the manifest. `npm run demo`
// run again keeps a healthy supervisor, and replaces a dead one or a cockpit-ws left without one.
//
// `node --import tsx tools/demo-server.ts supervise PORT XDG_DATA_HOME LOG` is the supervisor itself.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { processAlive, processArgv } from "../helper/tools/proc.ts";

export const COCKPIT_WS = "/usr/lib/cockpit/cockpit-ws";
const BRIDGE = "/usr/bin/cockpit-bridge";
const CHECK_EVERY_MS = 2000;
/** A cockpit-ws that does not answer at all this many checks in a row is replaced too. */
const SILENT_CHECKS = 3;

export interface DemoServer {
    port: number;
    /** XDG_DATA_HOME of the session: holds cockpit/virtnbdbackup (the plugin link). */
    xdg: string;
    /** Folder for the supervisor's pid file and the log. */
    stateDir: string;
}

/** The URL that proves the session serves the plugin: its manifest comes through the bridge. */
export function manifestUrl(port: number): string {
    return `http://127.0.0.1:${port}/cockpit/@localhost/virtnbdbackup/manifest.json`;
}

/** HTTP status of the manifest, or 0 when nothing answers. */
export async function manifestStatus(port: number): Promise<number> {
    try {
        const r = await fetch(manifestUrl(port), { signal: AbortSignal.timeout(3000) });
        await r.arrayBuffer();
        return r.status;
    } catch {
        return 0;
    }
}

function pidFile(server: DemoServer): string {
    return path.join(server.stateDir, "cockpit-supervisor.pid");
}

/** The supervisor's pid when it still runs (and is ours, not a process that reused the number). */
export function supervisorPid(server: DemoServer): number | null {
    try {
        const pid = Number(fs.readFileSync(pidFile(server), "utf8").trim());
        const argv = Number.isSafeInteger(pid) && pid > 0 && processAlive(pid) ? processArgv(pid) : null;
        return argv && argv.some(a => a.endsWith("demo-server.ts")) && argv.includes("supervise") && argv.includes(String(server.port)) ? pid : null;
    } catch {
        return null;
    }
}

/** cockpit-ws processes serving this demo (its port and XDG_DATA_HOME), e.g. one whose supervisor died. */
function demoCockpits(server: DemoServer): number[] {
    const pids: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry))
            continue;
        const argv = processArgv(Number(entry));
        if (!argv || argv[0] !== COCKPIT_WS || !argv.includes(String(server.port)))
            continue;
        try {
            if (fs.readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(`XDG_DATA_HOME=${server.xdg}`))
                pids.push(Number(entry));
        } catch {
            // gone meanwhile
        }
    }
    return pids;
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (await check())
            return true;
        if (Date.now() > deadline)
            return false;
        await new Promise(r => setTimeout(r, 200));
    }
}

async function killAndWait(pids: number[]): Promise<void> {
    for (const pid of pids)
        try { process.kill(pid, "SIGTERM") } catch { /* gone */ }
    if (!await waitUntil(() => pids.every(p => !processAlive(p)), 5000)) {
        for (const pid of pids)
            try { process.kill(pid, "SIGKILL") } catch { /* gone */ }
    }
}

/** Stops the demo's supervisor and any cockpit-ws of the demo. */
export async function stopDemoServer(server: DemoServer): Promise<void> {
    const pid = supervisorPid(server);
    if (pid !== null)
        await killAndWait([pid]);
    await killAndWait(demoCockpits(server));
    fs.rmSync(pidFile(server), { force: true });
}

/**
 * Makes sure the demo's cockpit-ws serves the plugin under a supervisor: keeps a healthy one, replaces
 * anything else (a dead session, a cockpit-ws without supervisor, a supervisor that does not get it to
 * answer). Resolves once the manifest answers 200; "kept" or "started" says which.
 */
export async function ensureDemoServer(server: DemoServer): Promise<"kept" | "started"> {
    if (supervisorPid(server) !== null && await waitUntil(async () => await manifestStatus(server.port) === 200, 10_000))
        return "kept";
    await stopDemoServer(server);
    fs.mkdirSync(server.stateDir, { recursive: true });
    const log = fs.openSync(path.join(server.stateDir, "cockpit-ws.log"), "a");
    const supervisor = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "demo-server.ts"),
                                                "supervise", String(server.port), server.xdg], {
        cwd: path.resolve(import.meta.dirname, ".."),
        detached: true,
        stdio: ["ignore", log, log],
    });
    supervisor.unref();
    fs.closeSync(log);
    fs.writeFileSync(pidFile(server), `${supervisor.pid}\n`);
    if (!await waitUntil(async () => await manifestStatus(server.port) === 200, 30_000))
        throw new Error(`the demo's cockpit-ws does not serve the plugin on port ${server.port}: see ${path.join(server.stateDir, "cockpit-ws.log")}`);
    return "started";
}

/** The supervisor: runs cockpit-ws and replaces it whenever its session is gone. Never returns. */
async function supervise(port: number, xdg: string): Promise<void> {
    let ws: ChildProcess | null = null;
    let stopping = false;
    const start = () => {
        ws = spawn(COCKPIT_WS, ["--no-tls", "-a", "127.0.0.1", "-p", String(port), `--local-session=${BRIDGE}`], {
            env: { ...process.env, XDG_DATA_HOME: xdg },
            stdio: ["ignore", "inherit", "inherit"],
        });
        ws.on("exit", () => { ws = null });
    };
    const stop = async () => {
        const old = ws;
        if (old?.pid !== undefined)
            await killAndWait([old.pid]);
        ws = null;
    };
    for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
        process.on(sig, () => {
            stopping = true;
            void stop().finally(() => process.exit(0));
        });
    }
    const log = (text: string) => process.stdout.write(`${new Date().toISOString()} supervisor: ${text}\n`);
    start();
    log(`cockpit-ws started on port ${port}`);
    let silent = 0;
    for (;;) {
        await new Promise(r => setTimeout(r, CHECK_EVERY_MS));
        if (stopping)
            return;
        const status = ws === null ? -1 : await manifestStatus(port);
        silent = status === 0 ? silent + 1 : 0;
        if (status === 200 || (status === 0 && silent < SILENT_CHECKS))
            continue;
        log(status === -1 ? "cockpit-ws ended; starting it again"
            : status === 0 ? "cockpit-ws does not answer; starting it again"
            : `the session ended (HTTP ${status}); starting cockpit-ws again`);
        await stop();
        start();
        silent = 0;
    }
}

if (process.argv[2] === "supervise" && process.argv[1]?.endsWith("demo-server.ts"))
    void supervise(Number(process.argv[3]), process.argv[4]!);
