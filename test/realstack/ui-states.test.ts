// SPDX-License-Identifier: GPL-3.0-or-later
// The page's states other than the list, each produced for real in cockpit-ws 287:
//  - a session that cannot become root (cockpit-ws and its bridge run as "nobody") sees
//    "Administrative access required";
//  - a root session whose package has no helper sees why, with a Retry button, and Retry runs
//    the helper once it is installed.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { runOk } from "../lib/exec.ts";
import { startCockpit, type RunningCockpit } from "../lib/cockpit.ts";
import { screenshot, type TestBrowser } from "../lib/browser.ts";
import { assertAccessible } from "../lib/axe.ts";
import { DIST, uiTestBed } from "../lib/test-bed.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const NOBODY = { uid: 65534, gid: 65534 };

/** chmod a+rX, recursively: the copy keeps the modes of a checkout made under any umask. */
function makeWorldReadable(dir: string) {
    fs.chmodSync(dir, 0o755);
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory())
            makeWorldReadable(full);
        else
            fs.chmodSync(full, 0o644);
    }
}

describe("page states", { timeout: 300_000 }, () => {
    // No libvirtd and no shared cockpit-ws: each test starts the one whose session it is about.
    const bed = uiTestBed({
        name: "states", libvirtd: false, cockpit: false,
        // Only the UI is needed, the helper is what the second test installs.
        build: async () => {
            if (!fs.existsSync(path.join(DIST, "index.js")))
                await runOk(process.execPath, ["build.mjs", "--ui"], { cwd: ROOT, timeoutMs: 300_000 });
        },
    });
    let uiOnly: string;
    let browser: TestBrowser;

    before(() => {
        // The UI as built, without its helper, in /tmp where "nobody" can read it
        // (the checkout itself may be under /root).
        browser = bed.browser;
        uiOnly = path.join(bed.work, "dist");
        fs.cpSync(DIST, uiOnly, { recursive: true, filter: src => !path.relative(DIST, src).startsWith("helper") });
        makeWorldReadable(bed.work);
    });

    it("tells a session without administrative access that it needs it", async () => {
        const cockpit: RunningCockpit = await startCockpit({ pkgDir: uiOnly, runAs: NOBODY });
        try {
            const page = browser!.page;
            await page.goto(cockpit.pageUrl());
            const state = page.locator("#state-not-admin");
            await state.waitFor({ timeout: 60_000 });
            assert.match(await state.innerText(), /Administrative access required/);
            assert.equal(await page.locator("#state-error, #vm-list").count(), 0);
            console.log(`# screenshot: ${await screenshot(page, "state-not-admin")}`);
            await assertAccessible(page, "state-not-admin");
        } finally {
            await cockpit.stop();
        }
    });

    it("shows why the helper cannot run, and Retry runs it again", async () => {
        // The session sees no system-wide install (CI installs the Debian package): only the UI-only folder.
        const cockpit = await startCockpit({ pkgDir: uiOnly, hideSystemInstall: true });
        try {
            const page = browser!.page;
            await page.goto(cockpit.pageUrl());
            const error = page.locator("#state-error");
            await error.waitFor({ timeout: 60_000 });
            assert.equal(await error.getAttribute("data-error-kind"), "failed");
            assert.match(await error.innerText(),
                         /Cannot list virtual machines\s+The virtnbdbackup helper is not installed: none of \S*cockpit\/virtnbdbackup\/helper\/helper\.js, \S*\/lib\/cockpit-virtnbdbackup\/helper\.js/);
            console.log(`# screenshot: ${await screenshot(page, "state-helper-missing")}`);
            await assertAccessible(page, "state-helper-missing");

            // Install the built helper, then Retry: the page runs it and shows its real answer
            // (the host's VMs, none, or the helper's own error) instead of "not installed".
            if (!fs.existsSync(path.join(DIST, "helper/helper.js")))
                await runOk(process.execPath, ["build.mjs", "--helper"], { cwd: ROOT, timeoutMs: 300_000 });
            fs.cpSync(path.join(DIST, "helper"), path.join(uiOnly, "helper"), { recursive: true, dereference: true });
            makeWorldReadable(path.join(uiOnly, "helper"));
            await page.locator("#retry").click();
            const answered = page.locator("#vm-list, #state-no-vms, #state-error:not(:has-text('is not installed'))");
            await answered.first().waitFor({ timeout: 60_000 });
            console.log(`# after retry: ${(await answered.first().innerText()).replace(/\s+/g, " ").slice(0, 200)}`);
        } finally {
            await cockpit.stop();
        }
    });
});
