// SPDX-License-Identifier: GPL-3.0-or-later
// Automatic backups in the settings dialog: the form's checks (src/app/backup-forms.ts, with the
// helper's own schedule rules), what Save sends, the summary's text, and the check of the helper's answer.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { settingsToSave, validateSettingsForm, type SettingsForm } from "../../../src/app/backup-forms.ts";
import { HelperError, parseSettingsAnswer } from "../../../src/helper-answer.ts";

const GOOD: SettingsForm = { folder: "/srv/backup/vm1", compress: false, schedule: { frequency: "weekly", weekday: 3, time: "03:30" } };

describe("validateSettingsForm: schedule", () => {
    it("accepts off, daily and weekly with a good day and time", () => {
        assert.deepEqual(validateSettingsForm(GOOD), {});
        assert.deepEqual(validateSettingsForm({ ...GOOD, schedule: { frequency: "daily", weekday: 0, time: "00:00" } }), {});
        assert.deepEqual(validateSettingsForm({ ...GOOD, schedule: { frequency: "off", weekday: 6, time: "23:59" } }), {});
        assert.deepEqual(validateSettingsForm({ ...GOOD, schedule: { frequency: "daily", weekday: 0, time: "2:05" } }), {});
    });

    it("refuses times that are not a time of day, as the helper does", () => {
        for (const time of ["", "24:00", "12:60", "12", "12:5", "ab:cd", " 02:00", "02:00:00", "-1:00"]) {
            assert.equal(validateSettingsForm({ ...GOOD, schedule: { ...GOOD.schedule, time } }).schedule, "bad-time", JSON.stringify(time));
            assert.equal(validateSettingsForm({ ...GOOD, schedule: { frequency: "daily", weekday: 0, time } }).schedule, "bad-time", JSON.stringify(time));
        }
    });

    it("refuses an unknown frequency and a day outside 0-6", () => {
        assert.equal(validateSettingsForm({ ...GOOD, schedule: { ...GOOD.schedule, frequency: "hourly" as "daily" } }).schedule, "unknown-frequency");
        for (const weekday of [-1, 7, 2.5, Number.NaN])
            assert.equal(validateSettingsForm({ ...GOOD, schedule: { ...GOOD.schedule, weekday } }).schedule, "bad-weekday", String(weekday));
    });

    it("does not let the hidden time of a schedule that is off block Save", () => {
        assert.deepEqual(validateSettingsForm({ ...GOOD, schedule: { frequency: "off", weekday: 3, time: "" } }), {});
    });

    it("reports folder and schedule problems together", () => {
        const errors = validateSettingsForm({ folder: "vm1", compress: true, schedule: { frequency: "daily", weekday: 0, time: "99:99" } });
        assert.deepEqual(errors, { folder: { problem: "relative", forbidden: undefined }, schedule: "bad-time" });
    });
});

describe("settingsToSave", () => {
    it("sends the form with the time as HH:MM", () => {
        assert.deepEqual(settingsToSave(GOOD), { folder: "/srv/backup/vm1", compress: false, schedule: { frequency: "weekly", weekday: 3, time: "03:30" }, keepChains: null, newChain: "never" });
        assert.deepEqual(settingsToSave({ ...GOOD, compress: true, schedule: { frequency: "daily", weekday: 1, time: "3:05" } }).schedule,
                         { frequency: "daily", weekday: 1, time: "03:05" });
    });

    it("sends keep-the-last-N-chains as a number, empty as keep all (null)", () => {
        assert.equal(settingsToSave({ ...GOOD, keepChains: " 3" }).keepChains, 3);
        assert.equal(settingsToSave({ ...GOOD, keepChains: "" }).keepChains, null);
        assert.deepEqual(validateSettingsForm({ ...GOOD, keepChains: "0" }), { keepChains: "too-small" });
        assert.deepEqual(validateSettingsForm({ ...GOOD, keepChains: "two" }), { keepChains: "not-a-number" });
    });

    it("replaces an unusable time of a schedule that is off with the default time", () => {
        assert.deepEqual(settingsToSave({ ...GOOD, schedule: { frequency: "off", weekday: 3, time: "" } }).schedule,
                         { frequency: "off", weekday: 3, time: "02:00" });
    });
});

describe("scheduleText and weekdayName", () => {
    it("names the schedule for the summary", async () => {
        // backup-text reads window.cockpit when loaded: untranslated gettext and Cockpit's $N placeholders.
        const fake = {
            gettext: (text: string) => text,
            format: (template: string, ...args: unknown[]) => template.replace(/\$(\d)/g, (_m, i: string) => String(args[Number(i)])),
        };
        (globalThis as unknown as { window: unknown }).window = { cockpit: fake };
        const { scheduleText, weekdayName } = await import("../../../src/app/backup-text.ts");
        assert.equal(scheduleText({ frequency: "off", weekday: 3, time: "03:30" }), "Automatic backups: off");
        assert.equal(scheduleText({ frequency: "daily", weekday: 3, time: "02:00" }), "Daily at 02:00");
        assert.equal(scheduleText({ frequency: "weekly", weekday: 3, time: "03:30" }), "Weekly on Wednesday at 03:30");
        assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map(weekdayName), ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]);
    });
});

describe("parseSettingsAnswer: schedule", () => {
    const ANSWER = {
        domain: "vm1", uuid: "u", folder: "/srv/b", compress: true, isDefault: false, statusFile: "/run/x.json",
        schedule: { frequency: "weekly", weekday: 3, time: "03:30" }, scheduler: "running",
    };
    const unexpected = (answer: unknown, pattern: RegExp) =>
        assert.throws(() => parseSettingsAnswer(JSON.stringify(answer)),
                      (e: unknown) => e instanceof HelperError && e.kind === "unexpected" && pattern.test(e.detail));

    it("accepts the answer with its schedule, unchanged", () => {
        assert.deepEqual(parseSettingsAnswer(JSON.stringify(ANSWER)), ANSWER);
        const off = { ...ANSWER, schedule: { frequency: "off", weekday: 0, time: "02:00" } };
        assert.deepEqual(parseSettingsAnswer(JSON.stringify(off)), off);
    });

    it("rejects a missing or malformed schedule, naming the field", () => {
        const { schedule: _schedule, ...noSchedule } = ANSWER;
        unexpected(noSchedule, /settings\.schedule is not an object/);
        unexpected({ ...ANSWER, schedule: "weekly" }, /settings\.schedule is not an object/);
        unexpected({ ...ANSWER, schedule: { ...ANSWER.schedule, frequency: "hourly" } }, /settings\.schedule\.frequency is not one of off, daily, weekly/);
        unexpected({ ...ANSWER, schedule: { ...ANSWER.schedule, weekday: "3" } }, /settings\.schedule\.weekday is not number/);
        unexpected({ ...ANSWER, schedule: { ...ANSWER.schedule, weekday: 7 } }, /settings\.schedule\.weekday is not a day 0-6/);
        unexpected({ ...ANSWER, schedule: { ...ANSWER.schedule, weekday: 1.5 } }, /settings\.schedule\.weekday is not a day 0-6/);
        unexpected({ ...ANSWER, schedule: { ...ANSWER.schedule, time: null } }, /settings\.schedule\.time is not string/);
        unexpected({ ...ANSWER, scheduler: "maybe" }, /settings\.scheduler is not one of running, stopped, missing/);
    });
});

describe("validateSettingsForm: random delay", () => {
    it("takes empty (none) or whole minutes up to 720, as the helper does; Save sends it with the schedule", () => {
        assert.deepEqual(validateSettingsForm({ ...GOOD, randomDelay: "" }), {});
        assert.deepEqual(validateSettingsForm({ ...GOOD, randomDelay: "720" }), {});
        assert.deepEqual(settingsToSave({ ...GOOD, randomDelay: "45" }).schedule, { ...GOOD.schedule, randomDelay: 45 });
        assert.deepEqual(settingsToSave({ ...GOOD, randomDelay: "0" }).schedule, GOOD.schedule);
        for (const randomDelay of ["721", "-5", "1.5", "5m", "abc"])
            assert.equal(validateSettingsForm({ ...GOOD, randomDelay }).schedule, "bad-random-delay", randomDelay);
    });

    it("a hidden delay of a schedule that is off does not block Save, and is not sent", () => {
        const off = { ...GOOD, schedule: { ...GOOD.schedule, frequency: "off" as const }, randomDelay: "x" };
        assert.deepEqual(validateSettingsForm(off), {});
        assert.equal(settingsToSave(off).schedule.randomDelay, undefined);
    });
});

describe("keep restore points of each chain", () => {
    it("refuses each bad rule by name, and saves the rules as numbers or null", () => {
        const form: SettingsForm = { ...GOOD, points: { keepPoints: "0", keepDaily: "7", keepWeekly: "", keepMonthly: "99999" } };
        assert.deepEqual(validateSettingsForm(form).points, { keepPoints: "too-small", keepMonthly: "too-big" });
        const good: SettingsForm = { ...GOOD, points: { keepPoints: "14", keepDaily: "7", keepWeekly: "", keepMonthly: "all" } };
        assert.deepEqual(validateSettingsForm(good), {});
        const saved = settingsToSave(good);
        assert.deepEqual([saved.keepPoints, saved.keepDaily, saved.keepWeekly, saved.keepMonthly], [14, 7, null, null]);
    });
});
