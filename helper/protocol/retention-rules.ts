// SPDX-License-Identifier: GPL-3.0-or-later
// How many chains of a VM's backup folder are kept. Pure rules without Node imports, so the UI's form checks
// with the very same function before the (root) helper checks again.

/** More chains than anyone keeps: a bigger number is a typo, not a policy. */
export const MAX_KEEP_CHAINS = 1000;

export type KeepChainsProblem = "not-a-number" | "too-small" | "too-big";

/**
 * "Keep the last N chains" as typed ("" or "all": keep all, null), or the reason it is refused. A number
 * keeps at least the newest chain: 0 would remove the chain being written.
 */
export function checkKeepChains(value: string | number | null): { keep: number | null } | { problem: KeepChainsProblem } {
    return checkKeepCount(value, MAX_KEEP_CHAINS);
}

/** A "keep the last N" count as typed: null for keep all, a whole number from 1 to `max`, or the problem. */
function checkKeepCount(value: string | number | null, max: number): { keep: number | null } | { problem: "not-a-number" | "too-small" | "too-big" } {
    if (value === null)
        return { keep: null };
    const text = String(value).trim();
    if (text === "" || text === "all")
        return { keep: null };
    if (!/^-?\d+$/.test(text))
        return { problem: "not-a-number" };
    const n = Number(text);
    if (n < 1)
        return { problem: "too-small" };
    if (n > max)
        return { problem: "too-big" };
    return { keep: n };
}

/** One English sentence for a problem (the helper's error; the UI translates its own). */
export function describeKeepChainsProblem(problem: KeepChainsProblem): string {
    switch (problem) {
    case "not-a-number": return "the number of chains to keep is not a whole number (empty or \"all\": keep all)";
    case "too-small": return "at least the newest chain is kept: the number of chains to keep must be 1 or more";
    case "too-big": return `the number of chains to keep must be at most ${MAX_KEEP_CHAINS} (empty or "all": keep all)`;
    }
}

/** More restore points than anyone keeps in one chain. */
export const MAX_KEEP_POINTS = 10000;

export type KeepPointsProblem = "not-a-number" | "too-small" | "too-big";

/**
 * "Keep the last N restore points of each chain" (older ones are merged into a full by consolidation) as typed
 * ("" or "all": keep all, null), or the reason it is refused. At least the newest point stays.
 */
export function checkKeepPoints(value: string | number | null): { keep: number | null } | { problem: KeepPointsProblem } {
    return checkKeepCount(value, MAX_KEEP_POINTS);
}

export function describeKeepPointsProblem(problem: KeepPointsProblem): string {
    switch (problem) {
    case "not-a-number": return "the number of restore points to keep is not a whole number (empty or \"all\": keep all)";
    case "too-small": return "at least the newest restore point is kept: the number of points to keep must be 1 or more";
    case "too-big": return `the number of restore points to keep must be at most ${MAX_KEEP_POINTS} (empty or "all": keep all)`;
    }
}

/** When the schedule starts a new chain instead of adding to the newest: never, every N backups, week or month. */
export type NewChainPolicy = "never" | "week" | "month" | number;

export type NewChainProblem = "unknown-new-chain" | "bad-backup-count";

/** Most backups one chain may be given before a new one starts: more is a typo, not a policy. */
export const MAX_CHAIN_BACKUPS = 1000;

/**
 * "never", "week", "month", or a number N ≥ 2 (every N backups) (a chain of N backups: its full and N−1 incrementals); as
 * stored (a string or number) or typed. Returns the policy or the reason it is refused.
 */
export function checkNewChain(value: unknown): { policy: NewChainPolicy } | { problem: NewChainProblem } {
    if (value === "never" || value === "week" || value === "month")
        return { policy: value };
    const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
    if (!/^-?\d+$/.test(text))
        return { problem: "unknown-new-chain" };
    const n = Number(text);
    if (n < 2 || n > MAX_CHAIN_BACKUPS)
        return { problem: "bad-backup-count" };
    return { policy: n };
}

export function describeNewChainProblem(problem: NewChainProblem): string {
    switch (problem) {
    case "unknown-new-chain": return "a new chain starts never, every week, every month or every N backups (never, week, month or a number)";
    case "bad-backup-count": return `a new chain every N backups needs N from 2 to ${MAX_CHAIN_BACKUPS} (1 would make every backup a full)`;
    }
}

/** Monday-based week start (local time) of a date, as a day count. */
function weekStart(d: Date): number {
    const day = Math.floor(new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() / 86_400_000);
    return day - ((d.getDay() + 6) % 7);
}

/**
 * Whether a scheduled backup at `now` starts a new chain, given the newest chain's number of restore points
 * and the date of its first (undefined: no chain yet, the backup is a full anyway).
 */
export function startsNewChain(policy: NewChainPolicy, newest: { points: number; firstDate: Date } | undefined, now: Date): boolean {
    if (policy === "never" || !newest || newest.points === 0)
        return false;
    if (policy === "week")
        return weekStart(now) > weekStart(newest.firstDate);
    if (policy === "month")
        return now.getFullYear() * 12 + now.getMonth() > newest.firstDate.getFullYear() * 12 + newest.firstDate.getMonth();
    return newest.points >= policy;
}
