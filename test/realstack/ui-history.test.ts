// SPDX-License-Identifier: GPL-3.0-or-later
// End to end in cockpit-ws and Chromium: the Backups tab's History section (a real backup and restore of a
// TCG VM, newest first, each run's log on expanding it) and the VM list's backup columns, with a failed
// automatic backup that is impossible to miss (danger label with words, and an alert naming the VM);
// axe-core in light and dark theme.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { run } from "../lib/exec.ts";
import { compareImages, type TestVm } from "../lib/vm.ts";
import type { RunningCockpit } from "../lib/cockpit.ts";
import { assertAccessibleInThemes } from "../lib/axe.ts";
import { helperJson as helper, ourCli } from "../lib/backup-cli.ts";
import { openVm } from "../lib/vm-page.ts";
import { uiTestBed } from "../lib/test-bed.ts";

const HELPER = path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");

async function jobEnd(vm: TestVm): Promise<string> {
    for (let i = 0; i < 600; i++) {
        const s = await helper(["job-status", "--domain", vm.name]);
        if (s.state !== "running")
            return String(s.state);
        await new Promise(resolve => setTimeout(resolve, 300));
    }
    assert.fail(`${vm.name}: the job did not end`);
}

describe("History section and the VM list's backup columns", { timeout: 600_000 }, () => {
    // Its schedules go off before the VMs go (the test bed does it).
    const bed = uiTestBed({ name: "uihistory" });
    let good: TestVm;
    let failing: TestVm;
    let cockpit: RunningCockpit;
    let page: Page;
    let work = "";
    const uuids: string[] = [];

    before(async () => {
        ({ work, cockpit, page } = bed);
        good = await bed.vm({ disks: [{ size: "24M", writes: [{ offset: "2M", length: "2M", random: true, seed: 5 }] }] });
        failing = await bed.vm({ disks: [{ size: "16M" }] });
        uuids.push(bed.uuid(good), bed.uuid(failing));
        // A real backup, then a restore of it (exact), through the helper as the page starts them.
        await helper(["set-settings", "--domain", good.name, "--folder", path.join(work, "good"), "--schedule", "daily", "--time", "03:30"]);
        await helper(["start-backup", "--domain", good.name, "--level", "auto"]);
        assert.equal(await jobEnd(good), "succeeded");
        await helper(["start-restore", "--domain", good.name, "--point", "virtnbdbackup.0", "--target", path.join(work, "restored")]);
        assert.equal(await jobEnd(good), "succeeded");
        const same = await compareImages(path.join(work, "restored", path.basename(good.disks[0]!.path)), good.expectedPath(0));
        assert.ok(same.identical, same.output);
        // An automatic backup that fails: its folder became a file after it was chosen.
        const bad = path.join(work, "bad");
        await helper(["set-settings", "--domain", failing.name, "--folder", bad, "--schedule", "daily", "--time", "04:00"]);
        fs.writeFileSync(bad, "not a folder\n");
        await run(process.execPath, [HELPER, "run-scheduled", "--uuid", uuids[1]!]);
        assert.equal(await jobEnd(failing), "failed");
    });

    it("the History section lists the restore and the backup, newest first, with the log of a run", async () => {
        await openVm(page, cockpit!, good);
        const rows = page.locator("#backup-history tr[data-run]");
        await rows.nth(1).waitFor({ timeout: 30_000 });
        assert.deepEqual(await rows.evaluateAll(els => els.map(e => `${e.getAttribute("data-type")}:${e.getAttribute("data-result")}`)),
                         ["restore:ok", "backup:warnings"]);
        const backup = rows.nth(1);
        assert.match(await backup.locator(".history-job").innerText(), /^Backup \(Full\)$/);
        assert.equal(await backup.locator(".history-kind").innerText(), "Manual");
        assert.equal(await backup.locator(".history-bytes").innerText(), "2 MiB");
        assert.match(await backup.locator(".history-result").innerText(), /Succeeded with warnings/);
        assert.match(await backup.innerText(), /1 warning\b/);
        // 24-hour clock, as everywhere on the page.
        assert.match(await backup.locator(".history-started").innerText(), /\d{1,2}:\d{2}:\d{2}$/);
        assert.match(await rows.nth(0).locator(".history-job").innerText(), /^Restore of virtnbdbackup\.0$/);

        await backup.locator("td button").first().click();
        const log = page.locator("#backup-history .history-log");
        await log.waitFor();
        assert.match(await log.innerText(), /plan: full backup virtnbdbackup\.0, 1 disk/);
        assert.match(await page.locator("#backup-history").innerText(), /no QEMU guest agent/);
        await assertAccessibleInThemes(page, "backups-history", async () => {
            await page.locator("#backup-history tr[data-run]").nth(1).waitFor({ timeout: 30_000 });
            await page.locator("#backup-history tr[data-run]").nth(1).locator("td button").first().click();
            await page.locator("#backup-history .history-log").waitFor();
        });
    });

    it("the VM list shows last backup, next run, newest point and size; a failed automatic backup stands out", async () => {
        await page.goto(cockpit!.pageUrl());
        const goodRow = page.locator(`#vm-list tr[data-vm="${good.name}"]`);
        await goodRow.waitFor({ timeout: 60_000 });
        assert.match(await goodRow.locator(".vm-last-backup").innerText(), /\d:\d{2}:\d{2}\s+Succeeded with warnings/);
        assert.match(await goodRow.locator(".vm-next-run").innerText(), /03:30:00/);
        assert.match(await goodRow.locator(".vm-newest-point").innerText(), /, Full$/);
        assert.match(await goodRow.locator(".vm-backup-size").innerText(), /^\d+(\.\d+)? (KiB|MiB)$/);

        const badRow = page.locator(`#vm-list tr[data-vm="${failing.name}"]`);
        assert.equal(await badRow.getAttribute("data-backup-failed"), "true");
        const label = badRow.locator('.vm-last-backup [data-result="failed"]');
        assert.equal(await label.innerText(), "Automatic backup failed", "words, not colour only");
        assert.equal(await label.locator("svg").count(), 1, "and an icon");
        assert.match(await badRow.locator(".vm-last-backup-error").innerText(), /not a folder/);
        const alert = page.locator("#vm-list-failed-backups");
        assert.match(await alert.innerText(), /The last automatic backup of 1 virtual machine failed/);
        assert.equal(await alert.locator(`li[data-vm="${failing.name}"] a`).getAttribute("href"), `#/${failing.name}`);
        assert.equal(await badRow.locator(".vm-newest-point").innerText(), "None");
        await assertAccessibleInThemes(page, "vm-list-backups", async () => {
            await page.locator(`#vm-list tr[data-vm="${failing.name}"]`).waitFor({ timeout: 60_000 });
        });
    });
});
