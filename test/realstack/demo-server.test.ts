// SPDX-License-Identifier: GPL-3.0-or-later
// The demo's cockpit-ws stays usable (tools/demo-server.ts): past the end of a --local-session after the last
// tab closed, a new visit still gets the plugin (not Cockpit's login page, 401), and ensureDemoServer run again
// keeps a healthy server but replaces a dead cockpit-ws left without its supervisor.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { launchBrowser } from "../lib/browser.ts";
import { freePort } from "../lib/cockpit.ts";
import { processArgv } from "../../helper/tools/proc.ts";
import { ensureDemoServer, manifestStatus, stopDemoServer, supervisorPid, type DemoServer } from "../../tools/demo-server.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

function childrenOf(pid: number): number[] {
    return fs.readdirSync("/proc").filter(e => /^\d+$/.test(e)).map(Number).filter(p => {
        try {
            return Number(/^PPid:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${p}/status`, "utf8"))?.[1]) === pid;
        } catch {
            return false;
        }
    });
}

/** Opens the plugin page in a fresh Chromium and closes it again; resolves with the page's title. */
async function visit(server: DemoServer): Promise<string> {
    const browser = await launchBrowser();
    try {
        const response = await browser.page.goto(`http://127.0.0.1:${server.port}/cockpit/@localhost/virtnbdbackup/index.html`);
        assert.equal(response?.status(), 200);
        await browser.page.waitForFunction(() => document.title === "Virtual machine backups", undefined, { timeout: 30_000 });
        return await browser.page.title();
    } finally {
        await browser.close();
    }
}

describe("the demo's cockpit-ws", { timeout: 180_000 }, () => {
    let server: DemoServer;

    before(async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-demo-`));
        server = { port: await freePort(), xdg: path.join(dir, "xdg"), stateDir: dir };
        fs.mkdirSync(path.join(server.xdg, "cockpit"), { recursive: true });
        fs.symlinkSync(path.join(ROOT, "dist"), path.join(server.xdg, "cockpit", "virtnbdbackup"));
    });

    after(async () => {
        await stopDemoServer(server);
        fs.rmSync(server.stateDir, { recursive: true, force: true });
    });

    it("still serves the plugin after the session of the last closed tab ended", async () => {
        assert.equal(await ensureDemoServer(server), "started");
        assert.equal(await visit(server), "Virtual machine backups");
        // cockpit 287 ends the local session 15–20 s after the last tab; 401 from then on without the supervisor.
        await new Promise(r => setTimeout(r, 25_000));
        assert.equal(await manifestStatus(server.port), 200);
        assert.equal(await visit(server), "Virtual machine backups");
        const restarts = fs.readFileSync(path.join(server.stateDir, "cockpit-ws.log"), "utf8").split("\n").filter(l => / supervisor: .*again/.test(l));
        console.log(`# supervisor restarts: ${restarts.join(" | ") || "none (the session did not end)"}`);
    });

    it("a second run keeps a healthy server and replaces a dead one left without supervisor", async () => {
        const supervisor = supervisorPid(server);
        assert.ok(supervisor !== null);
        assert.equal(await ensureDemoServer(server), "kept");
        assert.equal(supervisorPid(server), supervisor);

        // What the old demo left behind: a cockpit-ws nobody watches, whose session is gone (401).
        const ws = childrenOf(supervisor).find(p => processArgv(p)?.[0]?.endsWith("cockpit-ws"));
        assert.ok(ws !== undefined, "the supervisor runs cockpit-ws");
        process.kill(supervisor, "SIGKILL");
        for (const bridge of childrenOf(ws))
            process.kill(bridge, "SIGTERM");
        for (let i = 0; i < 50 && await manifestStatus(server.port) !== 401; i++)
            await new Promise(r => setTimeout(r, 100));
        assert.equal(await manifestStatus(server.port), 401, "the orphaned cockpit-ws answers with a login page");

        assert.equal(await ensureDemoServer(server), "started");
        assert.notEqual(supervisorPid(server), null);
        assert.throws(() => process.kill(ws, 0), "the dead cockpit-ws was stopped");
        assert.equal(await manifestStatus(server.port), 200);
    });
});
