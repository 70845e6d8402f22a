// SPDX-License-Identifier: GPL-3.0-or-later
// A process named by pid and start time: a pid alone may be reused by an unrelated process later.
import { processStartTime as procStartTime } from "../tools/proc.ts";

export interface ProcessRef {
    pid: number;
    /** Start time in clock ticks since boot (/proc/<pid>/stat, field 22). */
    start: number;
}

/** The start time of a running process, or null when it is gone (or a zombie). */
export function processStartTime(pid: number): number | null {
    const start = Number(procStartTime(pid) ?? Number.NaN);
    return Number.isFinite(start) ? start : null;
}

/** Whether the process still runs (the same one, not a reuse of its pid). */
export function sameProcess(ref: ProcessRef | undefined): boolean {
    return ref !== undefined && processStartTime(ref.pid) === ref.start;
}
