// SPDX-License-Identifier: GPL-3.0-or-later
// Starts a real cockpit-ws (Cockpit 287) with a local session, serving one plugin from a built dist/.
// The local session runs cockpit-bridge as the current user (root in tests), so superuser "require"
// works without sudo. In 287 that session ends ~15 s after the last browser disconnects: start one
// per test file and keep one browser page connected while the tests run.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const COCKPIT_WS = "/usr/lib/cockpit/cockpit-ws";
export const COCKPIT_BRIDGE = "/usr/bin/cockpit-bridge";

export interface CockpitOptions {
    /** The built plugin folder (dist/), linked as $XDG_DATA_HOME/cockpit/<pkgName>. */
    pkgDir: string;
    /** Folder name under share/cockpit/; the URL path of the plugin. */
    pkgName?: string;
    /** Give up waiting for cockpit-ws after this many ms. */
    timeoutMs?: number;
    /**
     * Run cockpit-ws, and so the session, as this user instead of the caller (root): a session
     * without administrative access, e.g. { uid: 65534, gid: 65534 } for nobody.
     */
    runAs?: { uid: number; gid: number };
    /**
     * Hide a system-wide install of the plugin (the Debian package, `make install`): the session's
     * XDG_DATA_DIRS is one folder that holds Cockpit's own packages but not ours.
     */
    hideSystemInstall?: boolean;
}

/** A share/ folder with links to /usr/share/cockpit's packages except `pkgName` (see hideSystemInstall). */
function shareWithout(parent: string, pkgName: string): string {
    const share = path.join(parent, "system-share");
    fs.mkdirSync(path.join(share, "cockpit"), { recursive: true });
    for (const name of fs.readdirSync("/usr/share/cockpit")) {
        if (name !== pkgName)
            fs.symlinkSync(path.join("/usr/share/cockpit", name), path.join(share, "cockpit", name));
    }
    return share;
}

export interface RunningCockpit {
    port: number;
    /** Absolute URL for a path on this cockpit-ws, e.g. url("/cockpit/@localhost/virtnbdbackup/index.html"). */
    url(pathname: string): string;
    /** URL of the plugin's page (optionally with a "#/..." location). */
    pageUrl(hash?: string): string;
    /** Everything cockpit-ws printed so far (useful in assertion messages). */
    log(): string;
    stop(): Promise<void>;
}

/** A TCP port that was free a moment ago (bind to 0, read it, release it). */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number, log: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (child.exitCode !== null || child.signalCode !== null)
            throw new Error(`cockpit-ws exited early (${child.exitCode ?? child.signalCode}):\n${log()}`);
        try {
            const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
            await response.arrayBuffer();
            if (response.ok)
                return;
        } catch {
            // not listening yet
        }
        if (Date.now() > deadline)
            throw new Error(`cockpit-ws did not answer ${url} within ${timeoutMs} ms:\n${log()}`);
        await new Promise(resolve => setTimeout(resolve, 200));
    }
}

export async function startCockpit(options: CockpitOptions): Promise<RunningCockpit> {
    const pkgName = options.pkgName ?? "virtnbdbackup";
    const pkgDir = path.resolve(options.pkgDir);
    if (!fs.existsSync(path.join(pkgDir, "manifest.json")))
        throw new Error(`${pkgDir} has no manifest.json: build the plugin first`);

    const dataHome = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-cockpit-`));
    fs.mkdirSync(path.join(dataHome, "cockpit"));
    if (options.runAs) {
        // The session user must be able to read the package link.
        fs.chmodSync(dataHome, 0o755);
        fs.chownSync(dataHome, options.runAs.uid, options.runAs.gid);
    }
    fs.symlinkSync(pkgDir, path.join(dataHome, "cockpit", pkgName));

    const port = await freePort();
    const child = spawn(COCKPIT_WS, [
        "--no-tls", "-a", "127.0.0.1", "-p", String(port), `--local-session=${COCKPIT_BRIDGE}`,
    ], {
        env: {
            ...process.env, XDG_DATA_HOME: dataHome,
            ...(options.hideSystemInstall ? { XDG_DATA_DIRS: shareWithout(dataHome, pkgName) } : {}),
        },
        stdio: ["ignore", "pipe", "pipe"],
        ...(options.runAs ?? {}),
    });
    let output = "";
    const collect = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-20000) };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    const exited = new Promise<void>(resolve => child.once("exit", () => resolve()));
    // If the test process dies without stop() (uncaught error), do not leave cockpit-ws behind.
    const killOnExit = () => {
        child.kill("SIGTERM");
        fs.rmSync(dataHome, { recursive: true, force: true });
    };
    process.once("exit", killOnExit);

    const base = `http://127.0.0.1:${port}`;
    const running: RunningCockpit = {
        port,
        url: pathname => base + pathname,
        pageUrl: (hash = "") => `${base}/cockpit/@localhost/${pkgName}/index.html${hash}`,
        log: () => output,
        async stop() {
            process.removeListener("exit", killOnExit);
            if (child.exitCode === null && child.signalCode === null) {
                child.kill("SIGTERM");
                const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
                await exited;
                clearTimeout(timer);
            }
            fs.rmSync(dataHome, { recursive: true, force: true });
        },
    };
    try {
        // The manifest comes through the bridge: once it answers, the session serves the plugin.
        await waitForHttp(running.url(`/cockpit/@localhost/${pkgName}/manifest.json`), child,
                          options.timeoutMs ?? 30000, running.log);
    } catch (err) {
        await running.stop();
        throw err;
    }
    return running;
}
