// SPDX-License-Identifier: GPL-3.0-or-later
// End to end: the Backups tab in the real cockpit-ws 287 and Chromium, backing up real TCG VMs.
// Settings through the dialog, auto → full → inc with live guest writes in between, a cancelled
// backup that leaves no restore point and no files, and a backup that goes on while the page is
// closed — each restore point restored with the REAL virtnbdrestore and compared with qemu-img.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { compareImages, type TestVm } from "../lib/vm.ts";
import type { RunningCockpit } from "../lib/cockpit.ts";
import { screenshot, type TestBrowser } from "../lib/browser.ts";
import { assertAccessible } from "../lib/axe.ts";
import { pyRestore } from "../lib/backup-cli.ts";
import { JOBS_DIR, SETTINGS_DIR } from "../lib/plugin-state.ts";
import { openVm, setBackupFolder } from "../lib/vm-page.ts";
import { uiTestBed } from "../lib/test-bed.ts";

/** Starts a backup through "Back up now" with the default level (Automatic). */
async function backUpNow(page: Page) {
    await page.locator("#backup-now").click();
    const dialog = page.locator("#backup-now-dialog");
    await dialog.waitFor();
    assert.equal(await dialog.locator("#backup-level-auto").isChecked(), true, "Automatic is the default level");
    await dialog.locator("#backup-now-start").click();
    await dialog.waitFor({ state: "detached" });
}

/** Records in the page whether #backup-progress was ever rendered (a short job shows it only briefly). */
async function watchForProgress(page: Page) {
    await page.evaluate(() => {
        const w = window as unknown as { sawProgress: boolean };
        w.sawProgress = document.querySelector("#backup-progress") !== null;
        new MutationObserver(() => {
            if (document.querySelector("#backup-progress"))
                w.sawProgress = true;
        }).observe(document.body, { childList: true, subtree: true });
    });
}

/** Waits until the tab shows how the job ended, and checks it ended as expected (with the tab's text if not). */
async function expectLastJob(page: Page, state: string, timeout = 120_000) {
    const last = page.locator("#backup-last-job");
    await last.waitFor({ timeout });
    const got = await last.getAttribute("data-state");
    if (got !== state)
        assert.fail(`the last job is ${got}, not ${state}: ${await page.locator("#backups").innerText()}`);
}

function point(page: Page, name: string) {
    return page.locator(`#backup-points tr[data-point="${name}"]`);
}

/** Data files and other files the folder holds, without the engine's run logs. */
function folderFiles(dir: string): string[] {
    if (!fs.existsSync(dir))
        return [];
    return (fs.readdirSync(dir, { recursive: true, encoding: "utf8" }) as string[]).filter(f => !/^backup\..*\.log$/.test(f)).sort();
}

describe("Backups tab in cockpit-ws", { timeout: 900_000 }, () => {
    const bed = uiTestBed({ name: "uibackup" });
    let small: TestVm;
    let large: TestVm;
    let cockpit: RunningCockpit;
    let browser: TestBrowser;
    let page: Page;
    let work: string;
    const uuids: string[] = [];

    before(async () => {
        ({ work, cockpit, browser, page } = bed);
        small = await bed.vm({
            disks: [
                { size: "64M", writes: [{ offset: 0, length: "4M", pattern: 0xa1 }, { offset: "16M", length: "3M", random: true }] },
                { size: "32M", writes: [{ offset: "1M", length: "2M", text: "backup tab " }] },
            ],
        });
        // Big and incompressible enough that a backup runs for seconds: time to see it and cancel it.
        large = await bed.vm({ disks: [{ size: "2G", writes: [{ offset: 0, length: "1G", random: true }] }] });
        uuids.push(bed.uuid(small), bed.uuid(large));
    });

    it("sets the backup folder in the settings dialog, refusing bad folders inline", async () => {
        await openVm(page, cockpit!, small);
        assert.equal((await page.locator("#backup-folder").innerText()).trim(), `/var/lib/libvirt/backups/${small.name}`);
        await page.locator("#backup-settings-edit").click();
        const dialog = page.locator("#backup-settings-dialog");
        const folderError = dialog.locator("#backup-settings-folder-error");
        for (const [bad, text] of [["backups/x", "absolute"], ["/etc/backups", "/etc"], ["/var/../usr/x", ".."], ["/lib64/x", "/lib64"]]) {
            await dialog.locator("#backup-settings-folder").fill(bad);
            await dialog.locator("#backup-settings-save").click();
            await folderError.waitFor();
            assert.ok((await folderError.innerText()).includes(text), `${bad}: ${await folderError.innerText()}`);
        }
        // A folder the form accepts but the helper refuses: a symlink into /etc.
        fs.symlinkSync("/etc", path.join(work, "etc-link"));
        await dialog.locator("#backup-settings-folder").fill(path.join(work, "etc-link", "b"));
        await dialog.locator("#backup-settings-save").click();
        await dialog.locator("#backup-settings-failure").waitFor();
        assert.match(await dialog.locator("#backup-settings-failure").innerText(), /\/etc/);
        await dialog.getByRole("button", { name: "Cancel" }).click();

        await setBackupFolder(page, path.join(work, "small"), { compress: false });
        assert.equal(await page.locator("#backup-compression").getAttribute("data-compress"), "false");
        await page.locator("#backup-points-empty").waitFor();
        // Stored by the helper, per UUID.
        const stored = JSON.parse(fs.readFileSync(path.join(SETTINGS_DIR, `${uuids[0]}.json`), "utf8"));
        assert.deepEqual(stored, { folder: path.join(work, "small"), compress: false, schedule: { frequency: "off", weekday: 0, time: "02:00" }, keepChains: null,
            keepPoints: null, keepDaily: null, keepWeekly: null, keepMonthly: null, newChain: "never" });

        // Changing a stored folder says what it does to the chains; the stored folder again says nothing.
        await page.locator("#backup-settings-edit").click();
        const again = page.locator("#backup-settings-dialog");
        const change = again.locator("#backup-settings-folder-change");
        assert.equal(await change.count(), 0);
        await again.locator("#backup-settings-folder").fill(path.join(work, "elsewhere"));
        await change.waitFor();
        assert.match(await change.innerText(), new RegExp(`The backups in ${path.join(work, "small")} stay where they are.*continues only with a full backup`, "s"));
        await again.locator("#backup-settings-folder").fill(path.join(work, "small"));
        await change.waitFor({ state: "detached" });
        await again.getByRole("button", { name: "Cancel" }).click();
        await again.waitFor({ state: "detached" });
    });

    it("backs up (auto → full) with progress, then lists restore point virtnbdbackup.0", async () => {
        await openVm(page, cockpit!, small);
        await watchForProgress(page);
        await backUpNow(page);
        await expectLastJob(page, "succeeded");
        assert.equal(await page.evaluate(() => (window as unknown as { sawProgress: boolean }).sawProgress), true,
                     "the progress card was shown while the job ran");
        const row = point(page, "virtnbdbackup.0");
        await row.waitFor();
        assert.equal(await row.getAttribute("data-level"), "full");
        assert.equal((await row.locator(".point-disks").innerText()).trim(), "vda, vdb");
        assert.equal(await row.locator(".point-complete").getAttribute("data-complete"), "true");
        assert.match(await page.locator("#backup-last-job").innerText(), /Full backup virtnbdbackup\.0 finished/);
        assert.equal(await page.locator("#backup-now").isEnabled(), true);
    });

    it("backs up live guest writes as an incremental (virtnbdbackup.1) that the real virtnbdrestore restores", async () => {
        await small.write(0, { offset: "8M", length: "1M", pattern: 0x5c });
        await small.write(1, { offset: "20M", length: "512K", random: true });
        const expected = [await small.snapshotExpected(0, "inc1"), await small.snapshotExpected(1, "inc1")];
        await openVm(page, cockpit!, small);
        await backUpNow(page);
        const row = point(page, "virtnbdbackup.1");
        await row.waitFor({ timeout: 120_000 });
        assert.equal(await row.getAttribute("data-level"), "inc");
        assert.equal(await page.locator('#backup-last-job').getAttribute("data-state"), "succeeded");
        // Screen readers hear the end: the polite live region says what the alert says.
        assert.equal(await page.locator("#job-announcer").getAttribute("aria-live"), "polite");
        assert.match(await page.locator("#job-announcer").textContent() ?? "", /^Incremental backup virtnbdbackup\.1 finished$/);
        assert.equal(await page.locator("#backup-settings-edit").getAttribute("aria-label"), "Edit backup settings");
        assert.equal(await point(page, "virtnbdbackup.0").count(), 1);
        // The row can come from a reload made while the run was still writing its chain files (they come
        // last); the reload at the job's end brings the new chain length.
        await page.locator("#backup-folder-size", { hasText: /2 checkpoints in the chain/ }).waitFor({ timeout: 30_000 })
            .catch(async () => assert.fail(`folder summary: ${await page.locator("#backup-folder-size").innerText()}`));

        await page.evaluate(() => localStorage.setItem("shell:style", "light"));
        await openVm(page, cockpit!, small);
        await point(page, "virtnbdbackup.1").waitFor();
        console.log(`# ${await screenshot(page, "backups-tab-light")}`);
        await assertAccessible(page, "backups-tab-light");
        await page.evaluate(() => localStorage.setItem("shell:style", "dark"));
        await page.reload();  // the same URL again would be a same-document navigation
        await point(page, "virtnbdbackup.1").waitFor();
        assert.equal(await page.evaluate(() => document.documentElement.classList.contains("pf-v6-theme-dark")), true);
        console.log(`# ${await screenshot(page, "backups-tab-dark")}`);
        await assertAccessible(page, "backups-tab-dark");
        await page.evaluate(() => localStorage.removeItem("shell:style"));

        const out = path.join(work, "restore-small");
        await pyRestore(["-i", path.join(work, "small"), "-o", out]);
        for (let i = 0; i < small.disks.length; i++) {
            const result = await compareImages(path.join(out, path.basename(small.disks[i].path)), expected[i]);
            assert.ok(result.identical, `${small.disks[i].dev}: ${result.output}`);
        }
    });

    it("starts a new chain on a folder that holds backups, lists the chains grouped, and prunes the older one when asked", async () => {
        const folder = path.join(work, "small");
        await small.write(0, { offset: "30M", length: "1M", random: true, seed: 77 });
        const expected = [await small.snapshotExpected(0, "chain2"), await small.snapshotExpected(1, "chain2")];
        await openVm(page, cockpit!, small);
        await page.locator("#backup-now").click();
        const dialog = page.locator("#backup-now-dialog");
        await dialog.waitFor();
        assert.match(await dialog.locator("label[for=backup-level-new-chain]").innerText(), /Full \(start a new chain\)/);
        await dialog.locator("#backup-level-new-chain").check();
        await dialog.locator("#backup-now-start").click();
        await dialog.waitFor({ state: "detached" });
        await page.locator('#backup-last-job[data-state="succeeded"]').waitFor({ timeout: 120_000 })
            .catch(async () => assert.fail(`the new chain's backup: ${await page.locator("#backups").innerText()}`));
        // Grouped: the new chain first, with its heading, then the first chain's two points.
        const newChain = page.locator('#backup-points tbody[data-chain="chain-2"]');
        await newChain.locator('tr[data-point="virtnbdbackup.0"]').waitFor({ timeout: 30_000 });
        assert.match(await newChain.locator(".backup-chain-title").innerText(), /Chain 2, in chain-2\/ · .* – .* · /);
        assert.deepEqual(await page.locator("#backup-points tbody").evaluateAll(els => els.map(e => e.getAttribute("data-chain"))), ["chain-2", ""]);
        assert.equal(await page.locator('#backup-points tbody[data-chain=""] tr[data-point]').count(), 2);
        console.log(`# ${await screenshot(page, "backups-tab-chains")}`);

        // Verify takes the chain of the row it was started from.
        await page.locator("#point-actions-chain-2-virtnbdbackup\\.0").click();
        await page.getByRole("menuitem", { name: "Verify" }).click();
        await page.locator('#verify-result[data-state="ok"], #verify-result[data-state="failed"], #verify-result[data-state="error"]').first().waitFor({ timeout: 60_000 });
        assert.equal(await page.locator("#verify-result").getAttribute("data-state"), "ok", await page.locator("#verify-result").innerText());
        assert.equal(await page.locator("#verify-result").getAttribute("data-point"), "chain-2/virtnbdbackup.0");

        const out = path.join(work, "restore-chain2");
        await pyRestore(["-i", path.join(folder, "chain-2"), "-o", out]);
        for (let i = 0; i < small.disks.length; i++) {
            const result = await compareImages(path.join(out, path.basename(small.disks[i].path)), expected[i]);
            assert.ok(result.identical, `chain-2 ${small.disks[i].dev}: ${result.output}`);
        }

        // Keep the last chain: "Prune now" names what goes and removes only that.
        fs.writeFileSync(path.join(folder, "mine.txt"), "kept\n");
        await page.locator("#backup-settings-edit").click();
        const settings = page.locator("#backup-settings-dialog");
        await settings.locator("#backup-settings-keep-chains").fill("0");
        await settings.locator("#backup-settings-save").click();
        await settings.locator("#backup-settings-keep-chains-error").waitFor();
        await settings.locator("#backup-settings-keep-chains").fill("2");
        await settings.locator('#backup-settings-prune-preview[data-remove="0"]').waitFor();
        await settings.locator("#backup-settings-keep-chains").fill("1");
        // The dialog says what the policy removes before it is saved.
        const preview = settings.locator('#backup-settings-prune-preview[data-remove="1"]');
        await preview.waitFor();
        assert.match(await preview.innerText(), /removes the chain in the backup folder itself, freeing .*(KiB|MiB)/);
        await settings.locator("#backup-settings-save").click();
        await settings.waitFor({ state: "detached" });
        await page.locator("#prune-now").click();
        const prune = page.locator("#prune-dialog");
        await prune.locator("#prune-chains").waitFor();
        assert.match(await prune.innerText(), /the chain in the backup folder itself: .*(KiB|MiB)/);
        await prune.locator("#prune-confirm").click();
        await prune.waitFor({ state: "detached" });
        await page.locator('#backup-points tbody[data-chain=""]').waitFor({ state: "detached" });
        assert.deepEqual(fs.readdirSync(folder).sort(), ["chain-2", "mine.txt"]);
        assert.equal(await page.locator("#prune-now").count(), 0, "nothing left to prune");

        // One more chain, then "Delete chain…" on the older one (the newest has no such action).
        await page.locator("#backup-now").click();
        await page.locator("#backup-level-new-chain").check();
        await page.locator("#backup-now-start").click();
        await page.locator('#backup-points tbody[data-chain="chain-3"]').waitFor({ timeout: 120_000 });
        await page.locator('#backup-last-job[data-state="succeeded"]').waitFor({ timeout: 120_000 });
        assert.equal(await page.locator('.backup-chain-delete[data-chain="chain-3"]').count(), 0);
        await page.locator('.backup-chain-delete[data-chain="chain-2"]').click();
        const del = page.locator("#prune-dialog");
        await del.locator('#prune-chains li[data-chain="chain-2"]').waitFor();
        assert.match(await del.innerText(), /Delete chain-2\?/);
        await del.locator("#prune-confirm").click();
        await del.waitFor({ state: "detached" });
        await page.locator('#backup-points tbody[data-chain="chain-2"]').waitFor({ state: "detached" });
        assert.deepEqual(fs.readdirSync(folder).sort(), ["chain-3", "mine.txt"]);
    });

    it("cancels a running backup: the UI says cancelled, no restore point appears, no files are left", async () => {
        const folder = path.join(work, "large");
        await openVm(page, cockpit!, large);
        await setBackupFolder(page, folder, { compress: true });
        await page.locator("#backup-points-empty").waitFor();
        const before = folderFiles(folder);
        await backUpNow(page);
        const progress = page.locator("#backup-progress");
        await progress.waitFor({ timeout: 60_000 });
        // Wait until bytes move, so the cancel hits the copy itself.
        await page.waitForFunction(() => {
            const text = document.querySelector("#backup-progress-overall")?.textContent ?? "";
            return /[1-9]\d*(\.\d+)? (MiB|GiB) of/.test(text);
        }, undefined, { timeout: 60_000 });
        console.log(`# ${await screenshot(page, "backups-tab-progress")}`);
        await assertAccessible(page, "backups-tab-progress");
        assert.match(await page.locator("#job-announcer").textContent() ?? "", /backup in progress, \d+0?% done$/);
        await page.locator("#backup-cancel").click();
        await page.locator("#backup-cancel-dialog").waitFor();
        await page.locator("#backup-cancel-confirm").click();
        await page.locator('#backup-last-job[data-state="cancelled"]').waitFor({ timeout: 120_000 });
        assert.match(await page.locator("#backup-last-job").innerText(), /cancelled/i);
        await page.locator("#backup-points-empty").waitFor();
        assert.equal(await page.locator("#backup-points tr[data-point]").count(), 0);
        assert.deepEqual(folderFiles(folder), before, "the cancelled backup left files behind");
        const state = JSON.parse(fs.readFileSync(path.join(JOBS_DIR, `${uuids[1]}.json`), "utf8"));
        assert.equal(state.state, "cancelled");
    });

    it("goes on while the page is closed, and the result is there when it is opened again", async () => {
        const folder = path.join(work, "large");
        await openVm(page, cockpit!, large);
        // A second page keeps the Cockpit session while the first one closes.
        const keeper = await browser!.context.newPage();
        await keeper.goto(cockpit!.pageUrl());
        await backUpNow(page);
        await page.locator("#backup-progress").waitFor({ timeout: 60_000 });
        // start-backup writes the first state; the runner adds its pid when it runs.
        let running = JSON.parse(fs.readFileSync(path.join(JOBS_DIR, `${uuids[1]}.json`), "utf8"));
        for (let i = 0; i < 100 && running.runnerPid === null; i++) {
            await new Promise(resolve => setTimeout(resolve, 100));
            running = JSON.parse(fs.readFileSync(path.join(JOBS_DIR, `${uuids[1]}.json`), "utf8"));
        }
        assert.equal(running.state, "running");
        await page.close();
        // The runner is a session leader of its own, outside the page's processes.
        const stat = fs.readFileSync(`/proc/${running.runnerPid}/stat`, "utf8");
        const sid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
        assert.equal(sid, running.runnerPid);

        page = keeper;
        await openVm(page, cockpit!, large);
        await page.locator('#backup-progress, #backup-last-job[data-state="succeeded"]').first().waitFor({ timeout: 60_000 });
        await page.locator('#backup-last-job[data-state="succeeded"]').waitFor({ timeout: 300_000 });
        const row = point(page, "virtnbdbackup.0");
        await row.waitFor();
        assert.equal(await row.getAttribute("data-level"), "full");
        assert.equal((await row.locator(".point-compressed").innerText()).trim(), "Yes");

        const out = path.join(work, "restore-large");
        await pyRestore(["-i", folder, "-o", out]);
        const result = await compareImages(path.join(out, path.basename(large.disks[0].path)), large.expectedPath(0));
        assert.ok(result.identical, result.output);
    });
});
