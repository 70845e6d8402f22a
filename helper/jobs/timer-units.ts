// SPDX-License-Identifier: GPL-3.0-or-later
// Automatic backups on systemd hosts: one timer and one service unit per scheduled VM, named from the VM's
// UUID, so that Cockpit's Services page and `systemctl list-timers` show them. Pure: names and texts only
// (the files are written by timer-files.ts).
import type { ScheduledCommand } from "./cron-file.ts";
import { isUuid } from "./paths.ts";
import { parseTime, type Schedule } from "../protocol/schedule-rules.ts";
import { SettingsError } from "./settings.ts";
import { LOG_IDENTIFIER } from "./job-log.ts";

/** Every unit the helper makes starts with this: the package's purge removes them by it. */
export const UNIT_PREFIX = "cockpit-virtnbdbackup";

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** A schedule unit's file name: cockpit-virtnbdbackup-<uuid>.timer or .service (lower case UUID). */
const SCHEDULE_UNIT_RE = /^cockpit-virtnbdbackup-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(timer|service)$/;

/** Paths systemd's ExecStart= takes literally: no spaces, quotes, $ or % (its own specifiers). */
const UNIT_SAFE_PATH = /^\/[A-Za-z0-9_./+-]+$/;

export function scheduleUnitName(uuid: string, type: "timer" | "service"): string {
    if (!isUuid(uuid) || uuid !== uuid.toLowerCase())
        throw new SettingsError(`cannot schedule ${uuid}: not a lower-case VM UUID`);
    return `${UNIT_PREFIX}-${uuid}.${type}`;
}

/** The VM UUID of one of our schedule unit files, or undefined for any other file name. */
export function scheduleUnitUuid(fileName: string): string | undefined {
    return SCHEDULE_UNIT_RE.exec(fileName)?.[1];
}

/** The OnCalendar= value of a schedule (local time, seconds 00), or null when it is off. Pure. */
export function onCalendar(schedule: Schedule): string | null {
    if (schedule.frequency === "off")
        return null;
    const t = parseTime(schedule.time);
    if (!t || (schedule.frequency === "weekly" && WEEKDAYS[schedule.weekday] === undefined))
        throw new SettingsError(`cannot schedule at ${schedule.time}`);
    const hhmm = `${String(t.hour).padStart(2, "0")}:${String(t.minute).padStart(2, "0")}:00`;
    return schedule.frequency === "weekly" ? `${WEEKDAYS[schedule.weekday]} *-*-* ${hhmm}` : `*-*-* ${hhmm}`;
}

/** Refuses programs whose paths systemd would not take literally in ExecStart=. Pure. */
export function checkUnitProgram(program: ScheduledCommand): void {
    for (const p of [program.node, program.helper]) {
        if (!UNIT_SAFE_PATH.test(p))
            throw new SettingsError(`cannot schedule backups: the path ${p} holds characters a systemd unit would read otherwise`);
    }
}

/**
 * The timer and service files of one VM ({name: text}), none when its backups are off. Persistent: a run
 * missed while the host was off happens at the next boot. AccuracySec=1s: systemd would otherwise start it
 * up to a minute late (to batch wake-ups); the random delay is the one the settings ask for. Pure.
 */
export function scheduleUnits(uuid: string, schedule: Schedule, program: ScheduledCommand): Map<string, string> {
    const calendar = onCalendar(schedule);
    const units = new Map<string, string>();
    if (calendar === null)
        return units;
    checkUnitProgram(program);
    const service = scheduleUnitName(uuid, "service");
    const timer = scheduleUnitName(uuid, "timer");
    const header = "# Written by cockpit-virtnbdbackup from its settings: change the schedule in Cockpit, edits here are overwritten.";
    units.set(service, [
        header,
        "[Unit]",
        `Description=Scheduled backup of the virtual machine ${uuid} (cockpit-virtnbdbackup)`,
        "After=libvirtd.service virtqemud.service",
        "",
        "[Service]",
        "Type=oneshot",
        // Starts the VM's backup job (its own transient unit, as from the page) and ends.
        `ExecStart=${program.node} ${program.helper} run-scheduled --uuid ${uuid}`,
        `SyslogIdentifier=${LOG_IDENTIFIER}`,
        `LogExtraFields=VM_UUID=${uuid}`,
        "",
    ].join("\n"));
    units.set(timer, [
        header,
        "[Unit]",
        `Description=Automatic backups of the virtual machine ${uuid} (cockpit-virtnbdbackup)`,
        "",
        "[Timer]",
        `OnCalendar=${calendar}`,
        "Persistent=true",
        "AccuracySec=1s",
        ...(schedule.randomDelay ? [`RandomizedDelaySec=${schedule.randomDelay}min`] : []),
        `Unit=${service}`,
        "",
        "[Install]",
        "WantedBy=timers.target",
        "",
    ].join("\n"));
    return units;
}
