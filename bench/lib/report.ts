// SPDX-License-Identifier: GPL-3.0-or-later
// The benchmark's results as Markdown: one table of measurements, one of goals (PASS/MISS).
import { stats, type Stats } from "./measure.ts";

/** One line of the measurement table. */
export interface Row {
    label: string;
    /** Wall times of the repetitions, ms. */
    wallMs: number[];
    /** Bytes the throughput is computed from (data bytes of the disk, or dirty bytes). */
    bytes: number;
    /** Peak RSS of each repetition, bytes (null: not measured). */
    peakRss: (number | null)[];
    /** CPU seconds (user + system) of each repetition's tool process. */
    cpuSeconds: (number | null)[];
    /** Size of the files written, bytes, when it says something (compression). */
    outputBytes?: number;
    /** Shown instead of numbers when the row could not be measured. */
    unavailable?: string;
}

/** One goal: value against target. pass null = could not be evaluated. */
export interface Goal {
    goal: string;
    target: string;
    value: string;
    pass: boolean | null;
}

const MB = 1e6;

export function median(row: Row | undefined): number | null {
    return row && !row.unavailable && row.wallMs.length > 0 ? stats(row.wallMs).median : null;
}

/** Largest peak RSS of the row's runs, bytes. */
export function peakRss(row: Row): number | null {
    const values = row.peakRss.filter((v): v is number => v !== null);
    return values.length > 0 ? Math.max(...values) : null;
}

function seconds(ms: number): string {
    return (ms / 1000).toFixed(2);
}

function cells(row: Row): string[] {
    if (row.unavailable || row.wallMs.length === 0)
        return [row.label, row.unavailable ?? "n/a", "", "", "", "", "", ""];
    const s: Stats = stats(row.wallMs);
    const throughput = row.bytes > 0 ? `${(row.bytes / MB / (s.median / 1000)).toFixed(0)}` : "–";
    const rss = peakRss(row);
    const cpu = row.cpuSeconds.filter((v): v is number => v !== null);
    return [
        row.label,
        seconds(s.median),
        `${seconds(s.min)}–${seconds(s.max)}`,
        String(s.n),
        throughput,
        rss === null ? "?" : (rss / MB).toFixed(0),
        cpu.length > 0 ? stats(cpu).median.toFixed(2) : "?",
        row.outputBytes === undefined ? "" : (row.outputBytes / MB).toFixed(0),
    ];
}

export function measurementTable(rows: Row[]): string {
    const header = ["Measurement", "median s", "min–max s", "runs", "MB/s", "peak RSS MB", "CPU s", "output MB"];
    return markdownTable(header, rows.map(cells));
}

export function goalTable(goals: Goal[]): string {
    return markdownTable(["Goal", "target", "measured", "result"],
        goals.map(g => [g.goal, g.target, g.value, g.pass === null ? "n/a" : g.pass ? "PASS" : "MISS"]));
}

function markdownTable(header: string[], rows: string[][]): string {
    const line = (c: string[]) => `| ${c.map(s => s.replace(/\|/g, "\\|")).join(" | ")} |`;
    return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** A ratio goal a/b compared with a limit; n/a when either side is missing. */
export function ratioGoal(goal: string, a: number | null, b: number | null, cmp: "<=" | ">=", limit: number): Goal {
    if (a === null || b === null || b === 0)
        return { goal, target: `${cmp} ${limit}`, value: "n/a", pass: null };
    const r = a / b;
    return { goal, target: `${cmp} ${limit}`, value: r.toFixed(2), pass: cmp === "<=" ? r <= limit : r >= limit };
}
