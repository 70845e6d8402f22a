// SPDX-License-Identifier: GPL-3.0-or-later
// Pure checks of the Backups tab's forms. The folder and schedule rules are the helper's own
// (helper/protocol/folder-rules, schedule-rules), so the dialog refuses exactly what the helper would;
// the helper checks again (and resolves symlinks).
import { checkChosenFolder, checkFolder, type FolderProblem } from "../../helper/protocol/folder-rules";
import {
    checkKeepChains, checkKeepPoints, checkNewChain, type KeepChainsProblem, type KeepPointsProblem, type NewChainPolicy, type NewChainProblem,
} from "../../helper/protocol/retention-rules";
import { checkSchedule, DEFAULT_SCHEDULE, type Schedule, type ScheduleProblem } from "../../helper/protocol/schedule-rules";
import type { JobLevel, VmSettings } from "../backup-types";

export interface SettingsForm {
    folder: string;
    compress: boolean;
    schedule: Schedule;
    /** "Keep the last N chains" as typed; empty: keep all. */
    keepChains?: string;
    /** When scheduled backups start a new chain: never, week, month, or "backups" (every newChainCount backups). */
    newChain?: "never" | "week" | "month" | "backups";
    newChainCount?: string;
    /** The schedule's random delay in minutes as typed; empty: none. */
    randomDelay?: string;
    /** The points rules of each chain as typed (keep-last/daily/weekly/monthly); empty: no such rule. */
    points?: Partial<Record<PointRule, string>>;
}

/** The typed random delay as a number (NaN when it is not digits: checkSchedule refuses it). */
function randomDelayValue(form: SettingsForm): number {
    const typed = (form.randomDelay ?? "").trim();
    return typed === "" ? 0 : /^\d{1,4}$/.test(typed) ? Number(typed) : NaN;
}

/** The form's random delay field for a stored schedule. */
export function randomDelayField(schedule: Schedule): string {
    return schedule.randomDelay ? String(schedule.randomDelay) : "";
}

/** The rules for the restore points inside each chain, as the settings name them. */
export const POINT_RULES = ["keepPoints", "keepDaily", "keepWeekly", "keepMonthly"] as const;
export type PointRule = typeof POINT_RULES[number];

/** The form's points fields for stored settings. */
export function pointFields(settings: VmSettings): Partial<Record<PointRule, string>> {
    return Object.fromEntries(POINT_RULES.map(r => [r, settings[r] === null || settings[r] === undefined ? "" : String(settings[r])]));
}

/** The points rules a form gives: a number or null (no rule) each; invalid ones as null (errors say why). */
export function pointRules(form: SettingsForm): Record<PointRule, number | null> {
    return Object.fromEntries(POINT_RULES.map(r => {
        const checked = checkKeepPoints(form.points?.[r] ?? "");
        return [r, "keep" in checked ? checked.keep : null];
    })) as Record<PointRule, number | null>;
}

/** The policy a form's new-chain fields give (checked by checkNewChain). */
function newChainValue(form: SettingsForm): string {
    return form.newChain === "backups" ? form.newChainCount ?? "" : form.newChain ?? "never";
}

/** The form's fields for a stored policy. */
export function newChainFields(policy: NewChainPolicy | undefined): Pick<SettingsForm, "newChain" | "newChainCount"> {
    return typeof policy === "number" ? { newChain: "backups", newChainCount: String(policy) } : { newChain: policy ?? "never", newChainCount: "7" };
}

export interface SettingsFormErrors {
    folder?: { problem: FolderProblem; forbidden?: string };
    schedule?: ScheduleProblem;
    keepChains?: KeepChainsProblem;
    newChain?: NewChainProblem;
    points?: Partial<Record<PointRule, KeepPointsProblem>>;
}

/** `storedFolder`: the folder saved before; it keeps working under rules made after it was chosen. */
export function validateSettingsForm(form: SettingsForm, storedFolder?: string): SettingsFormErrors {
    const errors: SettingsFormErrors = {};
    const folder = form.folder.trim() === storedFolder ? checkFolder(form.folder) : checkChosenFolder(form.folder);
    if ("problem" in folder)
        errors.folder = { problem: folder.problem, forbidden: folder.forbidden };
    const schedule = checkSchedule({ ...form.schedule, randomDelay: randomDelayValue(form) });
    // With automatic backups off the time and delay fields are hidden: a half-typed value there must not block Save.
    if ("problem" in schedule && !((schedule.problem === "bad-time" || schedule.problem === "bad-random-delay") && form.schedule.frequency === "off"))
        errors.schedule = schedule.problem;
    const keep = checkKeepChains(form.keepChains ?? "");
    if ("problem" in keep)
        errors.keepChains = keep.problem;
    const newChain = checkNewChain(newChainValue(form));
    if ("problem" in newChain)
        errors.newChain = newChain.problem;
    for (const rule of POINT_RULES) {
        const checked = checkKeepPoints(form.points?.[rule] ?? "");
        if ("problem" in checked)
            errors.points = { ...errors.points, [rule]: checked.problem };
    }
    return errors;
}

/**
 * What Save sends for a form without errors: the time as "HH:MM", and when automatic backups are
 * off, an unusable (hidden) time and delay replaced by the defaults, since the helper checks them too.
 */
export function settingsToSave(form: SettingsForm): VmSettings {
    const checked = checkSchedule({ ...form.schedule, randomDelay: randomDelayValue(form) });
    const schedule = "schedule" in checked ? checked.schedule : { frequency: form.schedule.frequency, weekday: form.schedule.weekday, time: DEFAULT_SCHEDULE.time };
    const keep = checkKeepChains(form.keepChains ?? "");
    const newChain = checkNewChain(newChainValue(form));
    return { folder: form.folder, compress: form.compress, schedule, keepChains: "keep" in keep ? keep.keep : null,
        newChain: "policy" in newChain ? newChain.policy : "never", ...(form.points ? pointRules(form) : {}) };
}

export function hasErrors(errors: object): boolean {
    return Object.values(errors).some(v => v !== undefined);
}

/** "new-chain": a full backup that starts a new chain beside the folder's earlier ones. */
export const BACKUP_LEVELS: JobLevel[] = ["auto", "new-chain", "inc", "diff", "copy"];

export interface BackupNowForm {
    level: string;
}

export interface BackupNowErrors {
    level?: "unknown-level";
}

export function validateBackupNowForm(form: BackupNowForm): BackupNowErrors {
    return (BACKUP_LEVELS as string[]).includes(form.level) ? {} : { level: "unknown-level" };
}
