// SPDX-License-Identifier: GPL-3.0-or-later
// "Delete…" of a restore point in the Backups tab (real cockpit-ws and Chromium): the confirmation names the
// points that go and the space that comes back (the helper's dry run), nothing changes until confirmed, and
// after it the remaining points restore exactly with the real virtnbdrestore. While it runs the dialog shows its
// progress, and Cancel stops it with nothing changed. The first point merges into a
// full, a later one into the next incremental; the newest point and the one before it offer no "Delete…".
// axe-core on the open menu and on the dialog, light and dark.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { run } from "../lib/exec.ts";
import { compareImages, type TestVm } from "../lib/vm.ts";
import type { RunningCockpit } from "../lib/cockpit.ts";
import { screenshot } from "../lib/browser.ts";
import { assertAccessible } from "../lib/axe.ts";
import { ourBackupOk, ourCli, pyRestore } from "../lib/backup-cli.ts";
import { openVm } from "../lib/vm-page.ts";
import { lockFolderForMapping } from "../../helper/backup/folder-lock.ts";
import { uiTestBed } from "../lib/test-bed.ts";

const HELPER = path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");

describe("Delete… of restore points in the Backups tab", { timeout: 600_000 }, () => {
    const bed = uiTestBed({ name: "uiconsolidate" });
    let vm: TestVm;
    let cockpit: RunningCockpit;
    let page: Page;
    let work = "";
    let uuid = "";

    before(async () => {
        ({ work, cockpit, page } = bed);
        vm = await bed.vm({ disks: [
            { size: "64M", writes: [{ offset: 0, length: "8M", random: true, seed: 5 }] },
            { size: "32M", writes: [{ offset: "1M", length: "2M", text: "delete points " }] },
        ] });
        uuid = bed.uuid(vm);
    });

    const row = (name: string) => page.locator(`#backup-points tr[data-point="${name}"]`);

    async function menuItems(name: string): Promise<string[]> {
        await page.locator(`#point-actions-${name.replace(/\./g, "\\.")}`).click();
        const items = await page.getByRole("menuitem").allInnerTexts();
        await page.keyboard.press("Escape");
        return items.map(s => s.trim());
    }

    it("names what goes, frees space, and leaves every other point restorable exactly", async () => {
        const folder = path.join(work, "backups");
        const expected: string[][] = [];
        await ourBackupOk(["-d", vm.name, "-l", "full", "-o", folder]);
        expected.push([await vm.snapshotExpected(0, "p0"), await vm.snapshotExpected(1, "p0")]);
        for (let n = 1; n <= 4; n++) {
            await vm.write(0, { offset: `${n * 6}M`, length: "4M", random: true, seed: 50 + n });
            await vm.write(1, { offset: `${n * 3}M`, length: "1M", zero: true });
            await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", folder]);
            expected.push([await vm.snapshotExpected(0, `p${n}`), await vm.snapshotExpected(1, `p${n}`)]);
        }
        const set = await run(process.execPath, [HELPER, "set-settings", "--domain", vm.name, "--folder", folder, "--schedule", "off"]);
        assert.equal(set.code, 0, set.stderr);

        await openVm(page, cockpit!, vm);
        await row("virtnbdbackup.4").waitFor();
        assert.deepEqual(await menuItems("virtnbdbackup.4"), ["Verify", "Restore…", "Start from backup…", "Browse files"], "the newest point");
        assert.deepEqual(await menuItems("virtnbdbackup.3"), ["Verify", "Restore…", "Start from backup…", "Browse files"], "its changes would go into the newest point's file");

        // A middle point: merged into the next incremental.
        await page.locator("#point-actions-virtnbdbackup\\.1").click();
        await assertAccessible(page, "point-menu-with-delete");
        await page.getByRole("menuitem", { name: "Delete…" }).click();
        const dialog = page.locator("#delete-point-dialog");
        await dialog.locator('#delete-point-list li[data-point="virtnbdbackup.1"]').waitFor();
        assert.match(await dialog.innerText(), /Delete restore point virtnbdbackup\.1\?/);
        assert.match(await dialog.locator("#delete-point-summary").innerText(), /merged into virtnbdbackup\.2, .* frees about [0-9.]+ (KiB|MiB)/);
        assert.equal(await dialog.locator("#delete-point-list li").count(), 1);
        console.log(`# ${await screenshot(page, "delete-point-dialog")}`);
        await assertAccessible(page, "delete-point-dialog-light");
        const before = fs.readdirSync(folder).sort();
        await dialog.getByRole("button", { name: "Cancel" }).click();
        await dialog.waitFor({ state: "detached" });
        assert.deepEqual(fs.readdirSync(folder).sort(), before, "cancelled: nothing changed");

        // Confirmed while a mapping of the folder is being set up (its shared lock, as virtnbdmap holds it while it
        // records the files it serves): the merge waits for it, the dialog shows it starting, with Cancel in the
        // place of Close; Cancel stops it, the helper says so, and nothing changed.
        const mapping = await lockFolderForMapping(folder);
        try {
            await page.locator("#point-actions-virtnbdbackup\\.1").click();
            await page.getByRole("menuitem", { name: "Delete…" }).click();
            await dialog.locator("#delete-point-list").waitFor();
            await dialog.locator("#delete-point-confirm").click();
            await dialog.locator("#delete-point-progress").waitFor();
            assert.match(await dialog.locator("#delete-point-progress").innerText(), /Starting the merge/);
            console.log(`# ${await screenshot(page, "delete-point-running")}`);
            await assertAccessible(page, "delete-point-running");
            await dialog.locator("#delete-point-cancel").click();
            await dialog.locator("#delete-point-failure").waitFor({ timeout: 60_000 });
            assert.match(await dialog.locator("#delete-point-failure").innerText(),
                /Nothing was deleted[\s\S]*cancelled: the merge was undone, the chain is as it was/);
            assert.equal(await dialog.locator("#delete-point-progress").count(), 0);
        } finally {
            mapping.release();
        }
        assert.deepEqual(fs.readdirSync(folder).sort(), before, "a cancelled deletion changes nothing");
        await dialog.getByRole("button", { name: "Cancel" }).click();
        await dialog.waitFor({ state: "detached" });

        await page.locator("#point-actions-virtnbdbackup\\.1").click();
        await page.getByRole("menuitem", { name: "Delete…" }).click();
        await dialog.locator("#delete-point-list").waitFor();
        await dialog.locator("#delete-point-confirm").click();
        await dialog.waitFor({ state: "detached" });
        await row("virtnbdbackup.1").waitFor({ state: "detached" });
        assert.ok(!fs.existsSync(path.join(folder, "vda.inc.virtnbdbackup.1.data")));

        // The first point: its changes go into a full of the next one. In the dark theme.
        await page.evaluate(() => localStorage.setItem("shell:style", "dark"));
        await page.reload();
        await row("virtnbdbackup.0").waitFor();
        await page.locator("#point-actions-virtnbdbackup\\.0").click();
        await page.getByRole("menuitem", { name: "Delete…" }).click();
        await dialog.locator('#delete-point-list li[data-point="virtnbdbackup.0"]').waitFor();
        await assertAccessible(page, "delete-point-dialog-dark");
        await dialog.locator("#delete-point-confirm").click();
        await dialog.waitFor({ state: "detached" });
        await row("virtnbdbackup.0").waitFor({ state: "detached" });
        await page.evaluate(() => localStorage.removeItem("shell:style"));
        assert.deepEqual(await page.locator("#backup-points tr[data-point]").evaluateAll(rows => rows.map(r => r.getAttribute("data-point"))),
            ["virtnbdbackup.4", "virtnbdbackup.3", "virtnbdbackup.2"]);
        assert.ok(fs.existsSync(path.join(folder, "vda.full.virtnbdbackup.2.data")));

        // The settings dialog: keep-points rules beside keep-last-N-chains, refused inline when bad, with a preview
        // of what they merge away now; saved, `helper prune` applies them.
        await page.locator("#backup-settings-edit").click();
        const settings = page.locator("#backup-settings-dialog");
        await settings.locator("#backup-settings-keep-points").fill("0");
        await settings.locator("#backup-settings-save").click();
        await settings.locator("#backup-settings-keep-points-error").waitFor();
        assert.match(await settings.locator("#backup-settings-keep-points-error").innerText(), /at least 1/);
        await settings.locator("#backup-settings-keep-points").fill("2");
        await settings.locator("#backup-settings-keep-daily").fill("1");
        const preview = settings.locator('#backup-settings-points-preview[data-drop="1"]');
        await preview.waitFor({ timeout: 30_000 });
        assert.match(await preview.innerText(), /merges away virtnbdbackup\.2, freeing about/);
        await assertAccessible(page, "settings-dialog-points-preview");
        console.log(`# ${await screenshot(page, "settings-dialog-points")}`);
        await settings.locator("#backup-settings-save").click();
        await settings.waitFor({ state: "detached" });
        const stored = JSON.parse(fs.readFileSync(`/etc/cockpit-virtnbdbackup/vms/${uuid}.json`, "utf8"));
        assert.equal(stored.keepPoints, 2);
        assert.equal(stored.keepDaily, 1);
        assert.equal(stored.keepWeekly, null);
        const pruned = await run(process.execPath, [HELPER, "prune", "--domain", vm.name, "--yes"]);
        assert.equal(pruned.code, 0, pruned.stderr);
        assert.deepEqual(JSON.parse(pruned.stdout).points[0].dropped, ["virtnbdbackup.2"]);

        for (const n of [3, 4]) {
            const out = path.join(work, `restore-${n}`);
            await pyRestore(["-i", folder, "-o", out, "-u", `virtnbdbackup.${n}`]);
            for (let i = 0; i < 2; i++) {
                const result = await compareImages(path.join(out, path.basename(vm.disks[i].path)), expected[n][i]);
                assert.ok(result.identical, `point ${n}, ${vm.disks[i].dev}: ${result.output}`);
            }
        }
    });
});
