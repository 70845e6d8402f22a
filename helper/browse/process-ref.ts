// SPDX-License-Identifier: GPL-3.0-or-later
// A process named by pid, start time and PID namespace (tools/proc.ts decides whether it still runs).
import { processStartTime as procStartTime, pidNsField, processLiveness, type ProcessRef as AnyProcessRef } from "../tools/proc.ts";

export interface ProcessRef extends AnyProcessRef {
    /** Start time in clock ticks since boot (/proc/<pid>/stat, field 22). */
    start: number;
}

/** The start time of a running process, or null when it is gone (or a zombie). */
export function processStartTime(pid: number): number | null {
    const start = Number(procStartTime(pid) ?? Number.NaN);
    return Number.isFinite(start) ? start : null;
}

/** A running process of this namespace as a record names it, or undefined when it is gone. */
export function refOf(pid: number): ProcessRef | undefined {
    const start = processStartTime(pid);
    return start === null ? undefined : { pid, start, ...pidNsField() };
}

/** Whether the process runs here, the same one (not a reuse of its pid): one that may be signalled. */
export function runsHere(ref: ProcessRef | undefined): boolean {
    return ref !== undefined && processLiveness(ref) === "running";
}
