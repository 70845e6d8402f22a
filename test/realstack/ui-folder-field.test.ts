// SPDX-License-Identifier: GPL-3.0-or-later
// End to end: the settings dialog's backup folder field in the real cockpit-ws 287 and Chromium. It suggests
// existing folders (Cockpit's file listing), says under the field what the helper says about the typed folder
// on disk (the VM's own disk images: refused; other files in it, emptied at reboot: warnings), refuses a folder
// the whole system shares, and a refused folder saves nothing.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import type { TestVm } from "../lib/vm.ts";
import { screenshot } from "../lib/browser.ts";
import { assertAccessible } from "../lib/axe.ts";
import { SETTINGS_DIR } from "../lib/plugin-state.ts";
import { openVm } from "../lib/vm-page.ts";
import { uiTestBed } from "../lib/test-bed.ts";

/** Waits until the field's helper text holds `text`; fails naming what it holds instead. */
async function helperTextSays(dialog: Locator, id: string, text: RegExp): Promise<void> {
    const item = dialog.locator(`#${id}`);
    await item.filter({ hasText: text }).waitFor({ timeout: 15_000 })
        .catch(async () => assert.fail(`#${id} does not say ${text}; the field's notes: ${await dialog.locator("#backup-settings-folder").locator("xpath=..").locator("..").innerText()}`));
}

describe("The backup folder field", { timeout: 600_000 }, () => {
    // Root's own 0755 folder: /tmp's sticky bit is allowed, but a folder in it must be root's.
    const bed = uiTestBed({ name: "uifolder", workMode: 0o755 });
    let vm: TestVm | undefined;
    let uuid: string | undefined;
    let page: Page;
    let work: string;

    before(async () => {
        ({ work, page } = bed);
        vm = await bed.vm({ disks: [{ size: "16M" }] });
        uuid = bed.uuid(vm);
        await openVm(page, bed.cockpit, vm);
    });

    async function openDialog(): Promise<Locator> {
        await page.locator("#backup-settings-edit").click();
        const dialog = page.locator("#backup-settings-dialog");
        await dialog.waitFor();
        return dialog;
    }

    it("suggests the folders under what is typed", async () => {
        for (const name of ["alpha", "beta"])
            fs.mkdirSync(path.join(work, name));
        fs.writeFileSync(path.join(work, "a-file"), "");
        const dialog = await openDialog();
        await dialog.locator("#backup-settings-folder").fill(work + "/");
        const options = dialog.locator("#backup-settings-folder-suggestions option");
        await options.nth(1).waitFor({ state: "attached", timeout: 15_000 });
        const values = await options.evaluateAll(list => list.map(o => (o as HTMLOptionElement).value));
        assert.deepEqual(values, [path.join(work, "alpha"), path.join(work, "beta")], "folders only, not the file");
        await dialog.getByRole("button", { name: "Cancel" }).click();
        await dialog.waitFor({ state: "detached" });
    });

    it("refuses the folder of the VM's own disk images under the field, and saves nothing", async () => {
        const imageFolder = path.dirname(vm!.disks[0]!.path);
        const dialog = await openDialog();
        await dialog.locator("#backup-settings-folder").fill(imageFolder);
        await helperTextSays(dialog, "backup-settings-folder-error", /holds this virtual machine's disk image/);
        await dialog.locator("#backup-settings-save").click();
        // Still open, no top alert, nothing stored.
        assert.equal(await dialog.locator("#backup-settings-failure").count(), 0);
        assert.ok(await dialog.isVisible());
        assert.equal(fs.existsSync(path.join(SETTINGS_DIR, `${uuid}.json`)), false);
        await dialog.getByRole("button", { name: "Cancel" }).click();
        await dialog.waitFor({ state: "detached" });
    });

    it("refuses a folder the whole system shares once Save is pressed", async () => {
        const dialog = await openDialog();
        await dialog.locator("#backup-settings-folder").fill("/srv");
        await dialog.locator("#backup-settings-save").click();
        await helperTextSays(dialog, "backup-settings-folder-error", /\/srv is shared by the whole system/);
        assert.equal(fs.existsSync(path.join(SETTINGS_DIR, `${uuid}.json`)), false);
        await dialog.getByRole("button", { name: "Cancel" }).click();
        await dialog.waitFor({ state: "detached" });
    });

    it("warns about a folder holding other files and about a folder emptied at reboot, and still saves", async () => {
        const shared = path.join(work, "alpha");
        fs.writeFileSync(path.join(shared, "notes.txt"), "not a backup");
        fs.writeFileSync(path.join(shared, "photo.jpg"), "");
        const dialog = await openDialog();
        await dialog.locator("#backup-settings-folder").fill(shared);
        await helperTextSays(dialog, "backup-settings-folder-foreign", /already holds 2 items that are not backups/);
        await helperTextSays(dialog, "backup-settings-folder-temporary", /emptied when the host restarts/);
        console.log(`# ${await screenshot(page, "backup-settings-folder-warnings")}`);
        await assertAccessible(page, "backup-settings-folder-warnings");
        await dialog.locator("#backup-settings-folder").fill(path.join(work, "new", "vm"));
        await helperTextSays(dialog, "backup-settings-folder-new", /will be created/);
        await dialog.locator("#backup-settings-save").click();
        await dialog.waitFor({ state: "detached" });
        const stored = JSON.parse(fs.readFileSync(path.join(SETTINGS_DIR, `${uuid}.json`), "utf8")) as { folder: string };
        assert.equal(stored.folder, path.join(work, "new", "vm"));
    });
});
