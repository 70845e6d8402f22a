// SPDX-License-Identifier: GPL-3.0-or-later
// End to end: automatic backups set in the Backups tab's settings dialog, in the real cockpit-ws 287
// and Chromium. What the dialog saves must reach the helper's settings file and the host's cron file
// (/etc/cron.d/cockpit-virtnbdbackup); a refused time saves nothing; Off removes the VM's cron line.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import type { TestVm } from "../lib/vm.ts";
import type { RunningCockpit } from "../lib/cockpit.ts";
import { screenshot } from "../lib/browser.ts";
import { assertAccessible } from "../lib/axe.ts";
import { SETTINGS_DIR } from "../lib/plugin-state.ts";
import { openVm } from "../lib/vm-page.ts";
import { ensureCron } from "../lib/cron.ts";
import { schedulerState } from "../../helper/jobs/cron-file.ts";
import { uiTestBed } from "../lib/test-bed.ts";

const CRON_FILE = "/etc/cron.d/cockpit-virtnbdbackup";

/** The cron file's lines that start this VM's scheduled backups (the file may hold other VMs' lines, or not exist). */
function cronLinesOf(uuid: string): string[] {
    if (!fs.existsSync(CRON_FILE))
        return [];
    return fs.readFileSync(CRON_FILE, "utf8").split("\n").filter(line => line.endsWith(` run-scheduled --uuid ${uuid}`));
}

interface ScheduleChoice {
    frequency: "off" | "daily" | "weekly";
    /** "0" (Sunday) … "6" (Saturday), for weekly. */
    weekday?: string;
    /** What is typed into the time field, for daily and weekly. */
    time?: string;
}

/** Opens the settings dialog and sets the schedule's fields (the dialog stays open). */
async function chooseSchedule(page: Page, choice: ScheduleChoice) {
    await page.locator("#backup-settings-edit").click();
    const dialog = page.locator("#backup-settings-dialog");
    await dialog.waitFor();
    await dialog.locator("#backup-settings-schedule").selectOption(choice.frequency);
    if (choice.weekday !== undefined)
        await dialog.locator("#backup-settings-weekday").selectOption(choice.weekday);
    if (choice.time !== undefined)
        await dialog.locator("#backup-settings-time").fill(choice.time);
    return dialog;
}

/** Sets the schedule through the dialog and waits until the summary shows it. */
async function saveSchedule(page: Page, choice: ScheduleChoice, summary: string) {
    const dialog = await chooseSchedule(page, choice);
    await dialog.locator("#backup-settings-save").click();
    await dialog.waitFor({ state: "detached" });
    const shown = page.locator("#backup-settings-schedule-summary");
    await shown.filter({ hasText: summary }).waitFor({ timeout: 10_000 })
        .catch(async () => assert.fail(`the summary says "${await shown.innerText()}", not "${summary}"`));
    assert.equal((await shown.innerText()).trim(), summary);
}

function storedSettings(uuid: string): { folder: string; compress: boolean; schedule?: unknown } {
    return JSON.parse(fs.readFileSync(path.join(SETTINGS_DIR, `${uuid}.json`), "utf8"));
}

describe("Automatic backups in the settings dialog", { timeout: 600_000 }, () => {
    // The test bed turns the VM's schedule off before its settings go (the cron line goes with it).
    const bed = uiTestBed({ name: "uischedule" });
    let vm: TestVm | undefined;
    let uuid: string | undefined;
    let cockpit: RunningCockpit;
    let page: Page;
    let work: string;

    before(async () => {
        ({ work, cockpit, page } = bed);
        vm = await bed.vm({ disks: [{ size: "16M", writes: [{ offset: 0, length: "1M", pattern: 0x3c }] }] });
        uuid = bed.uuid(vm);
    });

    it("starts with automatic backups off, and shows the day and time fields only when they apply", async () => {
        await openVm(page, cockpit!, vm!);
        assert.equal((await page.locator("#backup-settings-schedule-summary").innerText()).trim(), "Automatic backups: off");
        const dialog = await chooseSchedule(page, { frequency: "off" });
        // Default schedule: off, nothing more to choose.
        assert.equal(await dialog.locator("#backup-settings-weekday").count(), 0);
        assert.equal(await dialog.locator("#backup-settings-time").count(), 0);
        await dialog.locator("#backup-settings-schedule").selectOption("daily");
        assert.equal(await dialog.locator("#backup-settings-weekday").count(), 0);
        assert.equal(await dialog.locator("#backup-settings-time").inputValue(), "02:00");
        // A plain text field shows its value as it is, "02:00" as the summary and cron say it; a browser's own time
        // field would show "02:00 AM" in an en-US browser.
        assert.equal(await dialog.locator("#backup-settings-time").getAttribute("type"), "text");
        await dialog.locator("#backup-settings-schedule").selectOption("weekly");
        assert.deepEqual(await dialog.locator("#backup-settings-weekday option").allInnerTexts(),
                         ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]);
        await dialog.getByRole("button", { name: "Cancel" }).click();
        await dialog.waitFor({ state: "detached" });
        assert.equal(cronLinesOf(uuid!).length, 0);
    });

    it("saves Weekly, Wednesday, 03:30: the summary says so and cron gets the VM's line", async () => {
        // A folder of the test's own, so that a backup cron might start lands where the test removes it.
        const dialog = await chooseSchedule(page, { frequency: "weekly", weekday: "3", time: "03:30" });
        await dialog.locator("#backup-settings-folder").fill(path.join(work, "vm"));
        console.log(`# ${await screenshot(page, "backup-settings-schedule-weekly")}`);
        await assertAccessible(page, "backup-settings-schedule-weekly");
        await dialog.locator("#backup-settings-save").click();
        await dialog.waitFor({ state: "detached" });
        await page.locator("#backup-settings-schedule-summary", { hasText: "Weekly on Wednesday at 03:30" }).waitFor();
        assert.equal((await page.locator("#backup-settings-schedule-summary").innerText()).trim(), "Weekly on Wednesday at 03:30");

        assert.deepEqual(storedSettings(uuid!), { folder: path.join(work, "vm"), compress: false, schedule: { frequency: "weekly", weekday: 3, time: "03:30" }, keepChains: null,
            keepPoints: null, keepDaily: null, keepWeekly: null, keepMonthly: null, newChain: "never" });
        const lines = cronLinesOf(uuid!);
        assert.equal(lines.length, 1, `cron file:\n${fs.existsSync(CRON_FILE) ? fs.readFileSync(CRON_FILE, "utf8") : "(none)"}`);
        assert.ok(lines[0].startsWith("30 3 * * 3 root "), lines[0]);

        // The dialog opens with what is stored.
        await page.locator("#backup-settings-edit").click();
        const again = page.locator("#backup-settings-dialog");
        await again.waitFor();
        assert.equal(await again.locator("#backup-settings-schedule").inputValue(), "weekly");
        assert.equal(await again.locator("#backup-settings-weekday").inputValue(), "3");
        assert.equal(await again.locator("#backup-settings-time").inputValue(), "03:30");
        await again.getByRole("button", { name: "Cancel" }).click();
        await again.waitFor({ state: "detached" });
    });

    it("refuses an empty time inline and saves nothing", async () => {
        const settingsBefore = fs.readFileSync(path.join(SETTINGS_DIR, `${uuid}.json`), "utf8");
        const cronBefore = cronLinesOf(uuid!);
        const dialog = await chooseSchedule(page, { frequency: "daily", time: "" });
        const timeError = dialog.locator("#backup-settings-time-error");
        assert.equal(await timeError.count(), 0, "no error before Save is pressed");
        await dialog.locator("#backup-settings-save").click();
        await timeError.waitFor();
        assert.match(await timeError.innerText(), /hours and minutes/);
        console.log(`# ${await screenshot(page, "backup-settings-schedule-bad-time")}`);
        await assertAccessible(page, "backup-settings-schedule-bad-time");
        // Still open, nothing stored, cron unchanged, and the summary shows the stored schedule.
        assert.equal(await dialog.isVisible(), true);
        await dialog.getByRole("button", { name: "Cancel" }).click();
        await dialog.waitFor({ state: "detached" });
        assert.equal(fs.readFileSync(path.join(SETTINGS_DIR, `${uuid}.json`), "utf8"), settingsBefore);
        assert.deepEqual(cronLinesOf(uuid!), cronBefore);
        assert.equal((await page.locator("#backup-settings-schedule-summary").innerText()).trim(), "Weekly on Wednesday at 03:30");
    });

    it("saves Daily at 23:05 as a line for every day of the week", async () => {
        await saveSchedule(page, { frequency: "daily", time: "23:05" }, "Daily at 23:05");
        const lines = cronLinesOf(uuid!);
        assert.equal(lines.length, 1);
        assert.ok(lines[0].startsWith("5 23 * * * root "), lines[0]);
    });

    it("warns beside a schedule while cron does not run, and not once it runs", async () => {
        const warning = page.locator("#backup-schedule-warning");
        // The page asks for the settings (and cron's state) when it loads: load it afresh each time.
        const reopen = async () => {
            await page.goto("about:blank");
            await openVm(page, cockpit!, vm!);
        };
        if (schedulerState() === "stopped") {
            await reopen();
            await warning.waitFor();
            assert.equal(await warning.getAttribute("data-scheduler"), "stopped");
            assert.match(await warning.innerText(), /cron is not running/);
        }
        const stopCron = await ensureCron();
        try {
            await reopen();
            assert.equal((await page.locator("#backup-settings-schedule-summary").innerText()).trim(), "Daily at 23:05");
            assert.equal(await warning.count(), 0);
        } finally {
            await stopCron();
        }
    });

    it("a random delay: refused beyond 720 minutes inline, saved with the schedule, said in the summary and the cron line", async () => {
        const settingsBefore = fs.readFileSync(path.join(SETTINGS_DIR, `${uuid}.json`), "utf8");
        const dialog = await chooseSchedule(page, { frequency: "daily", time: "23:05" });
        const delay = dialog.locator("#backup-settings-random-delay");
        assert.equal(await delay.inputValue(), "", "none stored: empty");
        await delay.fill("721");
        await dialog.locator("#backup-settings-save").click();
        const error = dialog.locator("#backup-settings-random-delay-error");
        await error.waitFor();
        assert.match(await error.innerText(), /from 0 to 720/);
        await assertAccessible(page, "backup-settings-schedule-bad-random-delay");
        assert.equal(fs.readFileSync(path.join(SETTINGS_DIR, `${uuid}.json`), "utf8"), settingsBefore);
        await delay.fill("30");
        await dialog.locator("#backup-settings-save").click();
        await dialog.waitFor({ state: "detached" });
        const shown = page.locator("#backup-settings-schedule-summary");
        await shown.filter({ hasText: "Daily at 23:05, up to 30 minutes later at random" }).waitFor({ timeout: 10_000 });
        assert.deepEqual(storedSettings(uuid!).schedule, { frequency: "daily", weekday: 3, time: "23:05", randomDelay: 30 });
        const lines = fs.readFileSync(CRON_FILE, "utf8").split("\n").filter(l => l.includes(`run-scheduled --uuid ${uuid}`));
        assert.deepEqual(lines.map(l => l.replace(/ root .* run-scheduled/, " root ... run-scheduled")),
            [`5 23 * * * root ... run-scheduled --uuid ${uuid} --random-delay`]);
        // The dialog shows the stored delay when opened again.
        await page.locator("#backup-settings-edit").click();
        assert.equal(await page.locator("#backup-settings-random-delay").inputValue(), "30");
        await page.locator("#backup-settings-dialog").getByRole("button", { name: "Cancel" }).click();
    });

    it("turns automatic backups off: the VM's cron line is gone", async () => {
        await saveSchedule(page, { frequency: "off" }, "Automatic backups: off");
        assert.deepEqual(cronLinesOf(uuid!), []);
        assert.equal((storedSettings(uuid!).schedule as { frequency: string }).frequency, "off");
        // And it stays off when the page is opened again.
        await openVm(page, cockpit!, vm!);
        assert.equal((await page.locator("#backup-settings-schedule-summary").innerText()).trim(), "Automatic backups: off");
    });
});
