// SPDX-License-Identifier: GPL-3.0-or-later
// When a VM is backed up on its own: the schedule stored with its settings. Pure rules without Node
// imports, so the UI's form checks with the very same function before the (root) helper checks again.

export type ScheduleFrequency = "off" | "daily" | "weekly";

export interface Schedule {
    /** "off": no automatic backups. */
    frequency: ScheduleFrequency;
    /** Day of a weekly backup: 0 = Sunday … 6 = Saturday (kept, unused, for daily and off). */
    weekday: number;
    /** Local time of day of the host, "HH:MM", 24 hours. */
    time: string;
    /** Minutes a run may start later, chosen at random each time, so that hosts and VMs spread out (absent: none). */
    randomDelay?: number;
}

export const SCHEDULE_FREQUENCIES: readonly ScheduleFrequency[] = ["off", "daily", "weekly"];

export const DEFAULT_SCHEDULE: Schedule = { frequency: "off", weekday: 0, time: "02:00" };

export type ScheduleProblem = "unknown-frequency" | "bad-weekday" | "bad-time" | "bad-random-delay";

/** The longest random delay: half a day, so a daily run still happens on its day's half. */
export const MAX_RANDOM_DELAY = 720;

/** Hours and minutes of a valid "HH:MM" (also "H:MM"), or null. */
export function parseTime(time: string): { hour: number; minute: number } | null {
    const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(time);
    return m ? { hour: Number(m[1]), minute: Number(m[2]) } : null;
}

/** The schedule as stored (time as "HH:MM"), or the first reason it is refused. */
export function checkSchedule(value: { frequency: string; weekday: number; time: string; randomDelay?: number }): { schedule: Schedule } | { problem: ScheduleProblem } {
    if (!(SCHEDULE_FREQUENCIES as readonly string[]).includes(value.frequency))
        return { problem: "unknown-frequency" };
    if (!Number.isInteger(value.weekday) || value.weekday < 0 || value.weekday > 6)
        return { problem: "bad-weekday" };
    const t = parseTime(value.time);
    if (!t)
        return { problem: "bad-time" };
    const delay = value.randomDelay ?? 0;
    if (!Number.isInteger(delay) || delay < 0 || delay > MAX_RANDOM_DELAY)
        return { problem: "bad-random-delay" };
    const time = `${String(t.hour).padStart(2, "0")}:${String(t.minute).padStart(2, "0")}`;
    return { schedule: { frequency: value.frequency as ScheduleFrequency, weekday: value.weekday, time, ...(delay > 0 ? { randomDelay: delay } : {}) } };
}

/**
 * The next `count` start times of a schedule after `from` (host local time, before any random delay);
 * none when it is off or invalid. What a timer's OnCalendar and a cron line must agree with.
 */
export function nextRuns(schedule: Schedule, from: Date, count: number): Date[] {
    const t = parseTime(schedule.time);
    if (schedule.frequency === "off" || !t)
        return [];
    const runs: Date[] = [];
    const day = new Date(from.getFullYear(), from.getMonth(), from.getDate());
    // A weekly run is at most 7 days away; the loop looks one day further for each run found.
    for (let i = 0; runs.length < count && i < 8 * count + 1; i++) {
        const at = new Date(day.getFullYear(), day.getMonth(), day.getDate() + i, t.hour, t.minute);
        // A time the clock skips that day (summer time starts) has no run, as with systemd's OnCalendar.
        const exists = at.getHours() === t.hour && at.getMinutes() === t.minute;
        if (exists && at > from && (schedule.frequency === "daily" || at.getDay() === schedule.weekday))
            runs.push(at);
    }
    return runs;
}
