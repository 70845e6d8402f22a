// SPDX-License-Identifier: GPL-3.0-or-later
// End to end: the built plugin in a real cockpit-ws 287, opened in Debian's Chromium, lists a real
// TCG VM that this test defines in the host's libvirtd, in light and dark theme and in German.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { run, runOk } from "../lib/exec.ts";
import { TestVm } from "../lib/vm.ts";
import type { RunningCockpit } from "../lib/cockpit.ts";
import { screenshot, type TestBrowser } from "../lib/browser.ts";
import { assertAccessible } from "../lib/axe.ts";
import { builtByRunner } from "../lib/build.ts";
import { timed, uiTestBed } from "../lib/test-bed.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const DARK_CLASS = "pf-v6-theme-dark";

async function build(): Promise<void> {
    if (builtByRunner())
        return;
    const full = await run(process.execPath, ["build.mjs"], { cwd: ROOT, timeoutMs: 300_000 });
    if (full.code === 0)
        return;
    // The helper half needs the native libnbd binding; the UI can still be tested without it.
    console.warn(`# full build failed, building the UI only:\n${full.stderr}`);
    await runOk(process.execPath, ["build.mjs", "--ui"], { cwd: ROOT, timeoutMs: 300_000 });
}

/** pids of `helper watch-vms` processes started by this cockpit-ws (found by walking up their parents). */
function watchesOf(cockpit: RunningCockpit): number[] {
    const cmdline = (pid: number) => {
        try {
            return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        } catch {
            return [];
        }
    };
    const parent = (pid: number) => {
        try {
            return Number(/^PPid:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
        } catch {
            return 0;
        }
    };
    const ours = (pid: number) => {
        for (let p = parent(pid); p > 1; p = parent(p)) {
            const argv = cmdline(p);
            if (argv[0]?.endsWith("cockpit-ws") && argv.includes(String(cockpit.port)))
                return true;
        }
        return false;
    };
    return fs.readdirSync("/proc").filter(e => /^\d+$/.test(e)).map(Number)
            .filter(pid => cmdline(pid).includes("watch-vms") && ours(pid));
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!await check()) {
        if (Date.now() > deadline)
            assert.fail(`timed out waiting until ${what}`);
        await new Promise(r => setTimeout(r, 100));
    }
}

function vmRow(page: Page, name: string) {
    return page.locator(`#vm-list tr[data-vm="${name}"]`);
}

/** Opens the plugin page fresh and waits until the VM list (or an error state) has rendered. */
async function openList(page: Page, cockpit: RunningCockpit, name: string) {
    await page.goto(cockpit.pageUrl());
    await page.locator(`#vm-list tr[data-vm="${name}"], #state-error, #state-not-admin`).first()
            .waitFor({ timeout: 60_000 });
    const error = page.locator("#state-error, #state-not-admin");
    if (await error.count() > 0)
        assert.fail(`the page shows an error instead of the VM list: ${await error.innerText()}`);
}

describe("plugin page in cockpit-ws", { timeout: 600_000 }, () => {
    // The test bed reports how long each set-up and tear-down step took (they dominate the file's time).
    const bed = uiTestBed({ name: "uivmlist", build });
    let vm: TestVm | undefined;
    let cockpit: RunningCockpit;
    let browser: TestBrowser;

    before(async () => {
        ({ cockpit, browser } = bed);
        vm = await timed("create VM", () => bed.vm({ disks: [{ size: "64M" }] }));
    });

    it("lists the VM by name with its state and disk", async () => {
        const page = browser!.page;
        await openList(page, cockpit!, vm!.name);
        const row = vmRow(page, vm!.name);
        assert.equal((await row.locator(".vm-name").innerText()).trim(), vm!.name);
        const state = row.locator(".vm-state");
        assert.equal(await state.getAttribute("data-state"), "running");
        assert.equal((await state.innerText()).trim(), "Running");
        const disk = row.locator('li[data-disk="vda"]');
        assert.equal((await disk.locator(".disk-format").innerText()).trim(), "qcow2");
        assert.equal((await disk.locator(".disk-size").innerText()).trim(), "64 MiB");
        assert.equal(await page.title(), "Virtual machine backups");
    });

    it("opens a VM's page from its name and goes back to the list", async () => {
        const page = browser!.page;
        await openList(page, cockpit!, vm!.name);
        await vmRow(page, vm!.name).locator(".vm-name a").click();
        const detail = page.locator(`#vm-detail[data-vm="${vm!.name}"]`);
        await detail.locator("#vm-name").waitFor();
        assert.equal((await detail.locator("#vm-name").innerText()).trim(), vm!.name);
        assert.match(page.url(), new RegExp(`#/${vm!.name}$`));
        await page.locator("#vm-tabs [data-tab=disks]").click();
        assert.equal((await detail.locator('#vm-disks tr[data-disk="vda"]').innerText()).includes("qcow2"), true);
        await assertAccessible(page, "the VM's Disks tab");
        await page.locator("#back-to-list a").click();
        await vmRow(page, vm!.name).waitFor();
    });

    it("follows Cockpit's shell:style setting (dark, light, and changes from another tab)", async () => {
        const page = browser!.page;
        const isDark = () => page.evaluate(cls => document.documentElement.classList.contains(cls), DARK_CLASS);
        const background = () => page.locator(".pf-v6-c-card").first()
                .evaluate(el => getComputedStyle(el).backgroundColor);

        await page.evaluate(() => localStorage.setItem("shell:style", "dark"));
        await openList(page, cockpit!, vm!.name);
        assert.equal(await isDark(), true);
        const darkBackground = await background();
        console.log(`# dark theme screenshot: ${await screenshot(page, "vm-list-dark")}`);
        await assertAccessible(page, "vm-list-dark");

        await page.evaluate(() => localStorage.setItem("shell:style", "light"));
        await openList(page, cockpit!, vm!.name);
        assert.equal(await isDark(), false);
        const lightBackground = await background();
        console.log(`# light theme screenshot: ${await screenshot(page, "vm-list-light")}`);
        await assertAccessible(page, "vm-list-light");
        assert.notEqual(darkBackground, lightBackground, "the dark class changes the rendered colours");

        // The shell changes the setting in its own document; this page hears it as a storage event.
        const other = await browser!.context.newPage();
        try {
            await other.goto(cockpit!.url("/cockpit/@localhost/virtnbdbackup/manifest.json"));
            await other.evaluate(() => localStorage.setItem("shell:style", "dark"));
            await page.waitForFunction(cls => document.documentElement.classList.contains(cls), DARK_CLASS);
        } finally {
            await other.close();
            await page.evaluate(() => localStorage.removeItem("shell:style"));
        }
    });

    it("shows German text with Cockpit's language cookie", async () => {
        const page = browser!.page;
        await browser!.context.addCookies([{ name: "CockpitLang", value: "de", url: cockpit!.url("/") }]);
        try {
            await openList(page, cockpit!, vm!.name);
            assert.equal((await page.locator("#vm-list-card .pf-v6-c-card__title").innerText()).trim(),
                         "Virtuelle Maschinen");
            assert.equal((await vmRow(page, vm!.name).locator(".vm-state").innerText()).trim(), "Läuft");
            assert.equal(await page.evaluate(() => document.documentElement.lang), "de");
            assert.equal(await page.title(), "Sicherungen virtueller Maschinen");
            console.log(`# German screenshot: ${await screenshot(page, "vm-list-de")}`);
            await assertAccessible(page, "vm-list-de");
        } finally {
            await browser!.context.clearCookies({ name: "CockpitLang" });
        }
    });

    it("follows VMs starting, stopping and appearing without a click, and stops watching when the page goes", async () => {
        const page = browser!.page;
        await openList(page, cockpit!, vm!.name);
        const state = vmRow(page, vm!.name).locator(".vm-state");
        assert.equal(await state.getAttribute("data-state"), "running");
        await waitUntil("the page watches the VMs", () => watchesOf(cockpit!).length === 1);

        await vm!.shutdown();
        await page.waitForFunction(sel => document.querySelector(sel)?.getAttribute("data-state") === "shut off",
                                   `#vm-list tr[data-vm="${vm!.name}"] .vm-state`, { timeout: 15_000 });
        assert.equal((await state.innerText()).trim(), "Shut off");
        await vm!.start();
        await page.waitForFunction(sel => document.querySelector(sel)?.getAttribute("data-state") === "running",
                                   `#vm-list tr[data-vm="${vm!.name}"] .vm-state`, { timeout: 15_000 });

        const newcomer = await TestVm.create({ start: false, disks: [{ size: "8M" }] });
        try {
            await vmRow(page, newcomer.name).waitFor({ timeout: 15_000 });
            assert.equal(await vmRow(page, newcomer.name).locator(".vm-state").getAttribute("data-state"), "shut off");
        } finally {
            await newcomer.cleanup();
        }
        await vmRow(page, newcomer.name).waitFor({ state: "detached", timeout: 15_000 });

        await page.goto("about:blank");
        await waitUntil("the watch ended with the page", () => watchesOf(cockpit!).length === 0, 15_000);
    });
});
