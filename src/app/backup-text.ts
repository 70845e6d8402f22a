// SPDX-License-Identifier: GPL-3.0-or-later
// Translated names and formats shared by the Backups tab's components.
import cockpit from "../lib/cockpit";
import type { FolderProblem } from "../../helper/protocol/folder-rules";
import { MAX_RANDOM_DELAY, type Schedule, type ScheduleFrequency, type ScheduleProblem } from "../../helper/protocol/schedule-rules";
import type { KeepChainsProblem, KeepPointsProblem, NewChainProblem } from "../../helper/protocol/retention-rules";
import type { JobLevel, JobPhase } from "../backup-types";
import { formatBytes, formatDateTime } from "./units";

const _ = cockpit.gettext;

/** The backup level's name; with a translator context, as short words mean other things elsewhere ("Full", "Copy"). */
export function levelName(level: JobLevel): string {
    switch (level) {
    case "auto": return cockpit.gettext("backup level", "Automatic");
    case "full": return cockpit.gettext("backup level", "Full");
    case "new-chain": return cockpit.gettext("backup level", "Full (start a new chain)");
    case "inc": return cockpit.gettext("backup level", "Incremental");
    case "diff": return cockpit.gettext("backup level", "Differential");
    case "copy": return cockpit.gettext("backup level", "Copy");
    }
}

export function levelDescription(level: JobLevel): string {
    switch (level) {
    case "auto": return _("Full into an empty folder, incremental otherwise.");
    case "full": return _("All data of every disk; starts a new chain of restore points.");
    case "new-chain": return _("All data of every disk, in a new chain beside the earlier ones; later backups build on it.");
    case "inc": return _("Changes since the last backup; adds a restore point to the chain.");
    case "diff": return _("Changes since the last full or incremental backup, without a new checkpoint.");
    case "copy": return _("All data, outside the chain: no checkpoint is kept.");
    }
}

export function keepChainsProblemText(problem: KeepChainsProblem): string {
    switch (problem) {
    case "not-a-number": return _("Enter a whole number, or leave empty to keep all chains.");
    case "too-small": return _("Keep at least 1 chain (the newest).");
    case "too-big": return _("Enter at most 1000, or leave empty to keep all chains.");
    }
}

export function keepPointsProblemText(problem: KeepPointsProblem): string {
    switch (problem) {
    case "not-a-number": return _("Enter whole numbers, or leave a field empty for no such rule.");
    case "too-small": return _("Keep at least 1 restore point.");
    case "too-big": return _("Enter at most 10000, or leave the field empty.");
    }
}

export function newChainProblemText(problem: NewChainProblem): string {
    switch (problem) {
    case "unknown-new-chain": return _("Choose when a new chain starts.");
    case "bad-backup-count": return _("Enter a number of backups from 2 to 1000.");
    }
}

export function phaseName(phase: JobPhase): string {
    switch (phase) {
    case "running": return _("Running");
    case "succeeded": return _("Succeeded");
    case "failed": return _("Failed");
    case "cancelled": return _("Cancelled");
    }
}

export function folderProblemText(problem: FolderProblem, forbidden?: string): string {
    switch (problem) {
    case "empty": return _("Enter a folder.");
    case "relative": return _("Enter an absolute path, starting with /.");
    case "control-characters": return _("The path may not contain line breaks or other control characters.");
    case "dot-segments": return _("The path may not contain . or .. parts.");
    case "too-long": return _("The path is too long.");
    case "name-too-long": return _("A folder name in the path is longer than 255 bytes.");
    case "root": return _("Backups cannot be stored in /.");
    case "system-folder": return cockpit.format(_("Backups cannot be stored in $0 or inside it."), forbidden ?? "");
    case "shared-folder": return cockpit.format(_("$0 is shared by the whole system. Choose a folder of its own inside it."), forbidden ?? "");
    }
}

/** 0 = Sunday … 6 = Saturday, as cron and Date.getDay() count. */
export function weekdayName(weekday: number): string {
    const names = [_("Sunday"), _("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday")];
    return names[weekday] ?? String(weekday);
}

export function frequencyName(frequency: ScheduleFrequency): string {
    switch (frequency) {
    case "off": return _("Off");
    case "daily": return _("Daily");
    case "weekly": return _("Weekly");
    }
}

/** One line for the settings summary: "Automatic backups: off", "Daily at 02:00", "Weekly on Wednesday at 03:30". */
export function scheduleText(schedule: Schedule): string {
    const when = scheduleTime(schedule);
    return schedule.frequency !== "off" && schedule.randomDelay
        ? cockpit.format(_("$0, up to $1 minutes later at random"), when, schedule.randomDelay)
        : when;
}

function scheduleTime(schedule: Schedule): string {
    switch (schedule.frequency) {
    case "off": return _("Automatic backups: off");
    case "daily": return cockpit.format(_("Daily at $0"), schedule.time);
    case "weekly": return cockpit.format(_("Weekly on $0 at $1"), weekdayName(schedule.weekday), schedule.time);
    }
}

export function scheduleProblemText(problem: ScheduleProblem): string {
    switch (problem) {
    case "unknown-frequency": return _("Choose how often to back up.");
    case "bad-weekday": return _("Choose a day of the week.");
    case "bad-time": return _("Enter a time of day as hours and minutes, for example 02:00.");
    case "bad-random-delay": return cockpit.format(_("Enter a whole number of minutes from 0 to $0, or leave it empty."), MAX_RANDOM_DELAY);
    }
}

/** Bytes with a unit, also under 1 KiB ("832 B"). */
export function bytes(n: number): string {
    return formatBytes(n, cockpit.language);
}

/** A meta frame's date (ISO local time without zone) in the page's language; as it is when unparsable. */
export function formatDate(iso: string): string {
    const t = Date.parse(iso.replace(/(\.\d{3})\d+$/, "$1"));
    if (Number.isNaN(t))
        return iso;
    return formatDateTime(new Date(t), cockpit.language);
}

export function formatTime(ms: number): string {
    return formatDateTime(new Date(ms), cockpit.language);
}
