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
}

export const SCHEDULE_FREQUENCIES: readonly ScheduleFrequency[] = ["off", "daily", "weekly"];

export const DEFAULT_SCHEDULE: Schedule = { frequency: "off", weekday: 0, time: "02:00" };

export type ScheduleProblem = "unknown-frequency" | "bad-weekday" | "bad-time";

/** Hours and minutes of a valid "HH:MM" (also "H:MM"), or null. */
export function parseTime(time: string): { hour: number; minute: number } | null {
    const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(time);
    return m ? { hour: Number(m[1]), minute: Number(m[2]) } : null;
}

/** The schedule as stored (time as "HH:MM"), or the first reason it is refused. */
export function checkSchedule(value: { frequency: string; weekday: number; time: string }): { schedule: Schedule } | { problem: ScheduleProblem } {
    if (!(SCHEDULE_FREQUENCIES as readonly string[]).includes(value.frequency))
        return { problem: "unknown-frequency" };
    if (!Number.isInteger(value.weekday) || value.weekday < 0 || value.weekday > 6)
        return { problem: "bad-weekday" };
    const t = parseTime(value.time);
    if (!t)
        return { problem: "bad-time" };
    const time = `${String(t.hour).padStart(2, "0")}:${String(t.minute).padStart(2, "0")}`;
    return { schedule: { frequency: value.frequency as ScheduleFrequency, weekday: value.weekday, time } };
}
