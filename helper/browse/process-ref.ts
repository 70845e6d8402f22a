// A process named by pid and start time: a pid alone may be reused by an unrelated process later.
import fs from "node:fs";

export interface ProcessRef {
    pid: number;
    /** Start time in clock ticks since boot (/proc/<pid>/stat, field 22). */
    start: number;
}

export function processStartTime(pid: number): number | null {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses; field 22 is the 20th after it.
        const start = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
        return Number.isFinite(start) ? start : null;
    } catch {
        return null;
    }
}

/** Whether the process still runs (the same one, not a reuse of its pid). */
export function sameProcess(ref: ProcessRef | undefined): boolean {
    return ref !== undefined && processStartTime(ref.pid) === ref.start;
}
