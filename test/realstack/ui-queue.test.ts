// SPDX-License-Identifier: GPL-3.0-or-later
// End to end in cockpit-ws and Chromium: the VM list's host-wide "Backup jobs at once" line and its dialog
// (inline errors that store nothing, a saved number the helper then uses), in light and dark theme and in
// German, with axe-core on every state; and the VM list following a job that ends: a backup started outside
// the page (as a timer would) shows in the row's last-backup and size columns without a reload.
// Runs alone: it changes the host-wide job queue's size.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import type { TestVm } from "../lib/vm.ts";
import type { RunningCockpit } from "../lib/cockpit.ts";
import { screenshot, type TestBrowser } from "../lib/browser.ts";
import { assertAccessible, assertAccessibleInThemes } from "../lib/axe.ts";
import { helperJson as helper } from "../lib/backup-cli.ts";
import { HOST_SETTINGS_FILE } from "../../helper/jobs/host-settings.ts";
import { uiTestBed } from "../lib/test-bed.ts";

describe("the VM list's backup queue setting, and the list following job ends", { timeout: 600_000 }, () => {
    const bed = uiTestBed({ name: "uiqueue" });
    let vm: TestVm;
    let cockpit: RunningCockpit;
    let browser: TestBrowser;
    let page: Page;
    let work = "";

    before(async () => {
        ({ work, cockpit, browser, page } = bed);
        const hostBefore = fs.existsSync(HOST_SETTINGS_FILE) ? fs.readFileSync(HOST_SETTINGS_FILE, "utf8") : undefined;
        bed.onTeardown(() => {
            if (hostBefore === undefined)
                fs.rmSync(HOST_SETTINGS_FILE, { force: true });
            else
                fs.writeFileSync(HOST_SETTINGS_FILE, hostBefore);
        });
        fs.rmSync(HOST_SETTINGS_FILE, { force: true });
        vm = await bed.vm({ disks: [{ size: "16M", writes: [{ offset: "1M", length: "2M", random: true, seed: 71 }] }] });
        await helper(["set-settings", "--domain", vm.name, "--folder", path.join(work, "b")]);
    });

    const openList = async () => {
        await page.goto(cockpit!.pageUrl());
        await page.locator("#queue-setting-edit").waitFor({ timeout: 60_000 });
    };

    it("shows the default, refuses bad numbers inline without storing them, saves a good one", async () => {
        const { maxBackupJobs: dflt } = await helper(["get-host-settings"]);
        await openList();
        assert.equal(await page.locator("#queue-setting-text").innerText(), `Backup jobs at once: ${dflt} (default for this host)`);
        await assertAccessibleInThemes(page, "queue-setting", openList);

        await page.locator("#queue-setting-edit").click();
        const input = page.locator("#queue-dialog-max");
        assert.equal(await input.inputValue(), String(dflt));
        await assertAccessible(page, "queue-dialog");
        for (const [typed, error] of [["0", "Enter a number from 1 to 64."], ["65", "Enter a number from 1 to 64."], ["two", "Enter a whole number."], ["", "Enter a whole number."]]) {
            await input.fill(typed!);
            await page.locator("#queue-dialog-save").click();
            // The item ends with its status for screen readers (": error status;").
            assert.ok((await page.locator("#queue-dialog-max-error").innerText()).startsWith(error!), typed);
            assert.equal(await input.getAttribute("aria-invalid"), "true");
            assert.ok(!fs.existsSync(HOST_SETTINGS_FILE), `${JSON.stringify(typed)} stored nothing`);
        }
        console.log(`# ${await screenshot(page, "queue-dialog-error")}`);
        await assertAccessible(page, "queue-dialog-error");

        await input.fill("3");
        await page.locator("#queue-dialog-save").click();
        await page.locator("#queue-dialog").waitFor({ state: "detached" });
        assert.equal(await page.locator("#queue-setting-text").innerText(), "Backup jobs at once: 3");
        assert.deepEqual(await helper(["get-host-settings"]), { maxBackupJobs: 3, isDefault: false });
        assert.deepEqual(JSON.parse(fs.readFileSync(HOST_SETTINGS_FILE, "utf8")), { maxBackupJobs: 3 });
    });

    it("in German", async () => {
        await browser!.context.addCookies([{ name: "CockpitLang", value: "de", url: cockpit!.url("/") }]);
        try {
            await openList();
            assert.equal(await page.locator("#queue-setting-text").innerText(), "Gleichzeitige Sicherungen: 3");
            await page.locator("#queue-setting-edit").click();
            await page.locator("#queue-dialog-max").fill("0");
            await page.locator("#queue-dialog-save").click();
            assert.match(await page.locator("#queue-dialog-max-error").innerText(), /^Geben Sie eine Zahl von 1 bis 64 ein\./);
            console.log(`# ${await screenshot(page, "queue-dialog-de")}`);
            await assertAccessible(page, "queue-dialog-de");
        } finally {
            await browser!.context.clearCookies({ name: "CockpitLang" });
        }
    });

    it("a backup that ends while the list is open shows in its row without a reload", async () => {
        await openList();
        const row = page.locator(`#vm-list tr[data-vm="${vm.name}"]`);
        await row.waitFor({ timeout: 60_000 });
        const last = row.locator('td[data-label="Last backup"]');
        const lastBefore = await last.innerText();
        const sizeBefore = await row.locator(".vm-backup-size").innerText();
        assert.equal(lastBefore.trim(), "Never");
        // Started outside the page, as a timer starts it: no lifecycle event of the VM, no click.
        await helper(["start-backup", "--domain", vm.name, "--level", "auto"]);
        await row.locator(".vm-last-backup", { hasText: "Succeeded with warnings" }).waitFor({ timeout: 120_000 });
        assert.equal((await helper(["job-status", "--domain", vm.name])).state, "succeeded");
        const sizeAfter = await row.locator(".vm-backup-size").innerText();
        assert.notEqual(sizeAfter, sizeBefore);
        assert.match(sizeAfter, /^\d+(\.\d+)? (KiB|MiB)$/);
        assert.match(await row.locator(".vm-newest-point").innerText(), /, Full$/);
        await assertAccessible(page, "vm-list-after-job");
    });
});
