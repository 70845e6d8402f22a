// SPDX-License-Identifier: GPL-3.0-or-later
// When a schedule next fires, in the host's local time (as cron and systemd timers read it). Pure: the
// time now is passed in.
import { parseTime, type Schedule } from "../protocol/schedule-rules.ts";

/** ms since the epoch of the schedule's next run after `now`; null when it is off (or its time is not one). */
export function nextRun(schedule: Schedule, now: Date): number | null {
    const time = parseTime(schedule.time);
    if (schedule.frequency === "off" || !time)
        return null;
    for (let day = 0; day <= 7; day++) {
        const at = new Date(now.getFullYear(), now.getMonth(), now.getDate() + day, time.hour, time.minute, 0, 0);
        if (at.getTime() > now.getTime() && (schedule.frequency === "daily" || at.getDay() === schedule.weekday))
            return at.getTime();
    }
    return null;
}
