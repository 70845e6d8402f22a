// SPDX-License-Identifier: GPL-3.0-or-later
// The plugin's VM page in the browser, as the UI tests open it.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import type { RunningCockpit } from "./cockpit.ts";

/** Opens a VM's page and waits for the Backups tab to show its settings (or fails on an error state). */
export async function openVm(page: Page, cockpit: RunningCockpit, vm: { name: string }): Promise<void> {
    await page.goto(cockpit.pageUrl(`#/${vm.name}`));
    await page.locator("#backup-now, #backup-settings-error, #state-error").first().waitFor({ timeout: 60_000 });
    const error = page.locator("#backup-settings-error, #state-error");
    if (await error.count() > 0)
        assert.fail(`the Backups tab shows an error: ${await error.innerText()}`);
}

/**
 * Sets the VM's backup folder (and, when given, compression) in the settings dialog and waits until the
 * tab shows the folder.
 */
export async function setBackupFolder(page: Page, folder: string, options: { compress?: boolean } = {}): Promise<void> {
    await page.locator("#backup-settings-edit").click();
    const dialog = page.locator("#backup-settings-dialog");
    await dialog.waitFor();
    await dialog.locator("#backup-settings-folder").fill(folder);
    if (options.compress !== undefined) {
        const box = dialog.locator("#backup-settings-compress");
        if (await box.isChecked() !== options.compress)
            await box.click();
    }
    await dialog.locator("#backup-settings-save").click();
    await dialog.waitFor({ state: "detached" });
    await page.locator("#backup-folder", { hasText: folder }).waitFor();
}
