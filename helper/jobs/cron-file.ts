// SPDX-License-Identifier: GPL-3.0-or-later
// Automatic backups run from cron where systemd is not PID 1 (else: timer-files.ts): one line per scheduled VM in /etc/cron.d/cockpit-virtnbdbackup, rewritten
// from all stored settings whenever a VM's settings change. cron runs each line through /bin/sh, so a line
// holds only characters that mean nothing to a shell: numbers, the VM's UUID and checked absolute paths.
import fs from "node:fs";
import path from "node:path";
import { readJsonFile, writeFileAtomic } from "./atomic-file.ts";
import { isUuid, SETTINGS_DIR } from "./paths.ts";
import { parseTime, type Schedule } from "../protocol/schedule-rules.ts";
import { parseSchedule, SettingsError } from "./settings.ts";

export const CRON_FILE = "/etc/cron.d/cockpit-virtnbdbackup";

/** Characters a shell takes literally in a word. */
const SHELL_SAFE_PATH = /^\/[A-Za-z0-9_./+-]+$/;

/** The UUIDs of settings files and cron lines: lower case, as the helper stores them. */
const isStoredUuid = (uuid: string) => isUuid(uuid) && uuid === uuid.toLowerCase();

/** cron is installed: its folder of system crontabs exists. */
const cronInstalled = (file: string) => fs.existsSync(path.dirname(file));

/** The programs a cron line starts: node and the helper (started as `node helper.js run-scheduled ...`). */
export interface ScheduledCommand {
    node: string;
    helper: string;
}

/** Refuses programs whose paths cron's shell would read otherwise (spaces, quotes, $, ...). Pure. */
export function checkScheduledCommand(command: ScheduledCommand): void {
    for (const p of [command.node, command.helper]) {
        if (!SHELL_SAFE_PATH.test(p))
            throw new SettingsError(`cannot schedule backups: the path ${p} holds characters cron's shell would read otherwise`);
    }
}

/** The cron line of one VM, or null when its backups are not scheduled. Pure. */
export function cronLine(uuid: string, schedule: Schedule, command: ScheduledCommand): string | null {
    if (schedule.frequency === "off")
        return null;
    const time = parseTime(schedule.time);
    if (!time || !isStoredUuid(uuid))
        throw new SettingsError(`cannot schedule ${uuid} at ${schedule.time}`);
    checkScheduledCommand(command);
    const weekday = schedule.frequency === "weekly" ? String(schedule.weekday) : "*";
    // cron has no random delay of its own: run-scheduled waits (up to the stored delay) when told to.
    const delay = schedule.randomDelay ? " --random-delay" : "";
    return `${time.minute} ${time.hour} * * ${weekday} root ${command.node} ${command.helper} run-scheduled --uuid ${uuid}${delay}`;
}

/** The whole file for these VMs' schedules. Pure. */
export function cronFileText(entries: { uuid: string; schedule: Schedule }[], command: ScheduledCommand): string {
    const lines = [
        "# Automatic backups of virtual machines, written by cockpit-virtnbdbackup from its settings",
        `# (${SETTINGS_DIR}). Change them in Cockpit: edits here are overwritten.`,
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ];
    for (const e of [...entries].sort((a, b) => a.uuid < b.uuid ? -1 : 1)) {
        const line = cronLine(e.uuid, e.schedule, command);
        if (line)
            lines.push(line);
    }
    return lines.join("\n") + "\n";
}

/**
 * Whether cron would run the file: "missing" (not installed: no /etc/cron.d), "stopped" (no cron daemon
 * among the host's processes) or "running". Shown beside a schedule, which otherwise would never fire.
 */
export function schedulerState(file = CRON_FILE, procDir = "/proc"): "running" | "stopped" | "missing" {
    if (!cronInstalled(file))
        return "missing";
    for (const entry of fs.readdirSync(procDir)) {
        if (!/^\d+$/.test(entry))
            continue;
        try {
            const comm = fs.readFileSync(path.join(procDir, entry, "comm"), "utf8").trim();
            if (comm === "cron" || comm === "crond")
                return "running";
        } catch {
            // the process ended while we looked
        }
    }
    return "stopped";
}

/** Refuses a schedule where nothing would run it: no cron installed (no /etc/cron.d). */
export function requireCron(file = CRON_FILE): void {
    if (!cronInstalled(file))
        throw new SettingsError(`automatic backups need cron, and ${path.dirname(file)} does not exist: install the cron package`);
}

/** Every stored schedule (a VM whose settings cannot be read has none: the page reports them when the VM is opened). */
export function storedSchedules(settingsDir = SETTINGS_DIR): { uuid: string; schedule: Schedule }[] {
    const entries: { uuid: string; schedule: Schedule }[] = [];
    const names = fs.existsSync(settingsDir) ? fs.readdirSync(settingsDir) : [];
    for (const name of names) {
        const uuid = name.replace(/\.json$/, "").toLowerCase();
        if (!name.endsWith(".json") || !isStoredUuid(uuid))
            continue;
        try {
            const stored = readJsonFile(path.join(settingsDir, name)) as { schedule?: unknown } | undefined;
            if (stored?.schedule !== undefined)
                entries.push({ uuid, schedule: parseSchedule(stored.schedule, name) });
        } catch {
            // unreadable: no schedule
        }
    }
    return entries;
}

/**
 * Rewrites the cron file from every stored schedule; removes it when nothing is scheduled. cron notices
 * the change within a minute.
 */
export function writeCronFile(command: ScheduledCommand, file = CRON_FILE, settingsDir = SETTINGS_DIR): void {
    const entries = storedSchedules(settingsDir);
    if (!entries.some(e => e.schedule.frequency !== "off")) {
        fs.rmSync(file, { force: true });
        return;
    }
    writeFileAtomic(file, cronFileText(entries, command));
    // cron ignores files that group or others may write.
    fs.chmodSync(file, 0o644);
}
