// SPDX-License-Identifier: GPL-3.0-or-later
// The timer and service files of automatic backups in /etc/systemd/system (texts: timer-units.ts). Every
// file is computed before the first is written, each is written beside and renamed into place, and
// systemd is told once: bad settings change nothing, and no unit is ever half-written.
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "./atomic-file.ts";
import type { ScheduledCommand } from "./cron-file.ts";
import { scheduleUnits, scheduleUnitUuid } from "./timer-units.ts";
import type { Schedule } from "../protocol/schedule-rules.ts";

export const UNIT_DIR = "/etc/systemd/system";

/** What systemctl is to the writer: the real one, or nothing where systemd does not run. */
export type Systemctl = (args: string[]) => Promise<string>;

/** Our schedule unit files in `unitDir` (cockpit-virtnbdbackup-<uuid>.timer/.service). */
export function scheduleUnitFiles(unitDir = UNIT_DIR): string[] {
    const names = fs.existsSync(unitDir) ? fs.readdirSync(unitDir) : [];
    return names.filter(n => scheduleUnitUuid(n) !== undefined).sort();
}

/** The unit files every stored schedule asks for ({file name: text}). Pure; throws before anything is written. */
export function wantedUnits(entries: { uuid: string; schedule: Schedule }[], program: ScheduledCommand): Map<string, string> {
    const wanted = new Map<string, string>();
    for (const e of entries) {
        for (const [name, text] of scheduleUnits(e.uuid, e.schedule, program))
            wanted.set(name, text);
    }
    return wanted;
}

/**
 * Makes `unitDir` hold exactly the units the schedules ask for: timers no longer wanted are stopped and
 * disabled, then removed; new or changed files are written; systemd reloads them once; every wanted timer
 * is enabled and started. Returns whether anything changed.
 */
export async function writeTimerUnits(entries: { uuid: string; schedule: Schedule }[], program: ScheduledCommand,
    systemctl: Systemctl, unitDir = UNIT_DIR): Promise<boolean> {
    const wanted = wantedUnits(entries, program);
    const present = scheduleUnitFiles(unitDir);
    const gone = present.filter(n => !wanted.has(n));
    const goneTimers = gone.filter(n => n.endsWith(".timer"));
    if (goneTimers.length > 0)
        await systemctl(["disable", "--now", "--quiet", ...goneTimers]);
    for (const name of gone)
        fs.rmSync(path.join(unitDir, name), { force: true });
    // Services before timers: a timer never points at a service that is not there yet.
    const order = [...wanted.keys()].sort((a, b) => Number(a.endsWith(".timer")) - Number(b.endsWith(".timer")) || (a < b ? -1 : 1));
    let changed = gone.length > 0;
    for (const name of order) {
        const file = path.join(unitDir, name);
        const text = wanted.get(name)!;
        let old: string | undefined;
        try {
            old = fs.readFileSync(file, "utf8");
        } catch {
            old = undefined;
        }
        if (old === text)
            continue;
        writeFileAtomic(file, text);
        fs.chmodSync(file, 0o644);  // the usual mode of unit files: systemctl cat works for everyone
        changed = true;
    }
    if (changed)
        await systemctl(["daemon-reload"]);
    const timers = order.filter(n => n.endsWith(".timer"));
    // Idempotent: a timer already enabled and running stays as it is (a reload took its new schedule).
    if (timers.length > 0)
        await systemctl(["enable", "--now", "--quiet", ...timers]);
    return changed;
}

/**
 * Removes every schedule unit file and its timers.target link without systemd (a host that no longer runs
 * it: its cron file takes over). Returns whether there was any.
 */
export function removeTimerFiles(unitDir = UNIT_DIR): boolean {
    const present = scheduleUnitFiles(unitDir);
    for (const name of present) {
        fs.rmSync(path.join(unitDir, "timers.target.wants", name), { force: true });
        fs.rmSync(path.join(unitDir, name), { force: true });
    }
    return present.length > 0;
}
