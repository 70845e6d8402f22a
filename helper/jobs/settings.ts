// SPDX-License-Identifier: GPL-3.0-or-later
// A VM's backup settings: read with defaults, validated, stored as JSON per domain UUID.
import { resolveTrustedFolder, UntrustedFolderError } from "../fs/trusted-folder.ts";
import { readJsonFile, writeFileAtomic } from "./atomic-file.ts";
import { folderFacts } from "./folder-facts.ts";
import { checkChosenFolder, checkFolder, defaultFolder, describeFolderProblem } from "../protocol/folder-rules.ts";
import { settingsFile } from "./paths.ts";
import {
    checkKeepChains, checkKeepPoints, checkNewChain, describeKeepChainsProblem, describeKeepPointsProblem, describeNewChainProblem,
    type NewChainPolicy,
} from "../protocol/retention-rules.ts";
import { checkSchedule, DEFAULT_SCHEDULE, MAX_RANDOM_DELAY, type Schedule } from "../protocol/schedule-rules.ts";
import type { VmSettings } from "../protocol/job-types.ts";
import type { PointPolicy } from "./point-retention.ts";

export class SettingsError extends Error {
    override readonly name = "SettingsError";
}

/** The folder as stored: normalised, and its existing part free of symlinks into a system folder. */
export function validateFolder(input: string): string {
    return resolveFolder(input, checkFolder).folder;
}

/**
 * A folder being chosen now (set-settings with a new folder): validateFolder, not a folder the whole system
 * shares, and not one holding this VM's disk images (`diskPaths`).
 */
export function validateChosenFolder(input: string, diskPaths: string[]): string {
    const { folder, real } = resolveFolder(input, checkChosenFolder);
    const images = folderFacts(real, diskPaths).diskImages;
    if (images.length > 0)
        throw new SettingsError(`${folder} holds this virtual machine's disk image ${images[0]}: its backups need a folder of their own`);
    return folder;
}

/** What the user typed, normalised, and its real path, both passing `rules`; throws SettingsError. */
function resolveFolder(input: string, rules: typeof checkFolder): { folder: string; real: string } {
    const checked = rules(input);
    if ("problem" in checked)
        throw new SettingsError(describeFolderProblem(checked.problem, checked.forbidden));
    // The helper runs as root: /srv/x -> /etc must not pass, nor a folder another user can change
    // (helper/fs/trusted-folder.ts). Checked on what exists; the run checks again and makes the rest.
    let real: string;
    try {
        real = resolveTrustedFolder(checked.folder, "a backup folder").folder;
    } catch (err) {
        if (err instanceof UntrustedFolderError)
            throw new SettingsError(err.kind === "not-a-folder" ? `${checked.folder} exists and is not a folder` : err.message);
        throw err;
    }
    const again = rules(real);
    if ("problem" in again)
        throw new SettingsError(`${checked.folder} leads to ${real}: ${describeFolderProblem(again.problem, again.forbidden)}`);
    return { folder: checked.folder, real };
}

/** Checks a stored or submitted settings object; throws SettingsError naming the bad field. */
export function parseSettings(value: unknown, where: string): VmSettings {
    if (typeof value !== "object" || value === null || Array.isArray(value))
        throw new SettingsError(`${where} is not a JSON object`);
    const record = value as Record<string, unknown>;
    if (typeof record.folder !== "string")
        throw new SettingsError(`${where}: "folder" is not a string`);
    if (typeof record.compress !== "boolean")
        throw new SettingsError(`${where}: "compress" is not true or false`);
    const checked = checkFolder(record.folder);
    if ("problem" in checked)
        throw new SettingsError(`${where}: ${describeFolderProblem(checked.problem, checked.forbidden)}`);
    // Settings stored before schedules existed have none: off.
    const schedule = record.schedule === undefined ? DEFAULT_SCHEDULE : parseSchedule(record.schedule, where);
    // Settings stored before retention existed keep every chain.
    const keepChains = record.keepChains === undefined ? null : parseKeepChains(record.keepChains, where);
    const newChain = record.newChain === undefined ? "never" : parseNewChain(record.newChain, where);
    const points = parsePointRules(record, where);
    return { folder: checked.folder, compress: record.compress, schedule, keepChains, ...points, newChain };
}

/** Checks "keep the last N points of each chain" (stored or submitted); throws SettingsError saying what is wrong. */
export function parseKeepPoints(value: unknown, where: string): number | null {
    const checked = checkKeepPoints(typeof value === "number" || typeof value === "string" || value === null ? value : "?");
    if ("problem" in checked)
        throw new SettingsError(`${where}: ${describeKeepPointsProblem(checked.problem)}`);
    return checked.keep;
}

/** The settings' rules for the points inside each chain, checked; absent rules are null. */
export function parsePointRules(record: Record<string, unknown>, where: string): Pick<VmSettings, "keepPoints" | "keepDaily" | "keepWeekly" | "keepMonthly"> {
    const rule = (key: "keepPoints" | "keepDaily" | "keepWeekly" | "keepMonthly") =>
        record[key] === undefined ? null : parseKeepPoints(record[key], `${where}: ${key}`);
    return { keepPoints: rule("keepPoints"), keepDaily: rule("keepDaily"), keepWeekly: rule("keepWeekly"), keepMonthly: rule("keepMonthly") };
}

/** The points policy of a VM's settings (point-retention.ts). */
export function pointPolicyOf(settings: VmSettings): PointPolicy {
    return { last: settings.keepPoints, daily: settings.keepDaily, weekly: settings.keepWeekly, monthly: settings.keepMonthly };
}

/** Checks when a new chain starts (stored or submitted); throws SettingsError saying what is wrong. */
export function parseNewChain(value: unknown, where: string): NewChainPolicy {
    const checked = checkNewChain(value);
    if ("problem" in checked)
        throw new SettingsError(`${where}: ${describeNewChainProblem(checked.problem)}`);
    return checked.policy;
}

/** Checks "keep the last N chains" (stored or submitted; null: keep all); throws SettingsError saying what is wrong. */
export function parseKeepChains(value: unknown, where: string): number | null {
    const checked = checkKeepChains(typeof value === "number" || typeof value === "string" || value === null ? value : "?");
    if ("problem" in checked)
        throw new SettingsError(`${where}: ${describeKeepChainsProblem(checked.problem)}`);
    return checked.keep;
}

const SCHEDULE_PROBLEMS = {
    "unknown-frequency": "the schedule is not one of off, daily, weekly",
    "bad-weekday": "the weekday is not a number from 0 (Sunday) to 6 (Saturday)",
    "bad-time": "the time is not HH:MM (24 hours)",
    "bad-random-delay": `the random delay is not a whole number of minutes from 0 to ${MAX_RANDOM_DELAY}`,
};

/** Checks a schedule (stored or submitted); throws SettingsError saying what is wrong. */
export function parseSchedule(value: unknown, where: string): Schedule {
    const record = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    const checked = checkSchedule({
        frequency: String(record.frequency),
        weekday: typeof record.weekday === "number" ? record.weekday : NaN,
        time: typeof record.time === "string" ? record.time : "",
        // Settings stored before the random delay existed have none.
        randomDelay: record.randomDelay === undefined ? undefined : typeof record.randomDelay === "number" ? record.randomDelay : NaN,
    });
    if ("problem" in checked)
        throw new SettingsError(`${where}: ${SCHEDULE_PROBLEMS[checked.problem]}`);
    return checked.schedule;
}

export function defaultSettings(vmName: string): VmSettings {
    return { folder: defaultFolder(vmName), compress: false, schedule: DEFAULT_SCHEDULE, keepChains: null, keepPoints: null, keepDaily: null, keepWeekly: null, keepMonthly: null, newChain: "never" };
}

/** Stored settings, or the defaults (isDefault) when none are stored. */
export function readSettings(uuid: string, vmName: string): VmSettings & { isDefault: boolean } {
    const file = settingsFile(uuid);
    const stored = readJsonFile(file);
    if (stored === undefined)
        return { ...defaultSettings(vmName), isDefault: true };
    return { ...parseSettings(stored, file), isDefault: false };
}

export function writeSettings(uuid: string, settings: VmSettings): void {
    const folder = validateFolder(settings.folder);
    const schedule = parseSchedule(settings.schedule, "schedule");
    const keepChains = parseKeepChains(settings.keepChains, "keep chains");
    const points = parsePointRules({ keepPoints: settings.keepPoints ?? null, keepDaily: settings.keepDaily ?? null,
                                     keepWeekly: settings.keepWeekly ?? null, keepMonthly: settings.keepMonthly ?? null }, "keep points");
    const newChain = parseNewChain(settings.newChain, "new chain");
    writeFileAtomic(settingsFile(uuid), JSON.stringify({ folder, compress: settings.compress, schedule, keepChains, ...points, newChain }, null, 2) + "\n");
}
