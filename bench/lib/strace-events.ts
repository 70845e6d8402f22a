// SPDX-License-Identifier: GPL-3.0-or-later
// The lines of `strace -f -ttt -o FILE` as events, for the timeline experiments.

/** One traced call or signal: when (ms after the first line), by which pid, whether that is the first pid (main). */
export interface TraceEvent {
    at: number;
    pid: number;
    main: boolean;
    what: string;
}

/** Pure: strace -f -ttt lines -> events relative to the first line; the first line's pid is the main thread. */
export function traceEvents(trace: string): TraceEvent[] {
    const out: TraceEvent[] = [];
    let t0: number | undefined;
    let main: number | undefined;
    for (const line of trace.split("\n")) {
        const m = /^(\d+)\s+(\d+\.\d+)\s+(.*)$/.exec(line);
        if (!m)
            continue;
        const pid = Number(m[1]);
        const t = Number(m[2]) * 1000;
        t0 ??= t;
        main ??= pid;
        out.push({ at: t - t0, pid, main: pid === main, what: m[3]! });
    }
    return out;
}
