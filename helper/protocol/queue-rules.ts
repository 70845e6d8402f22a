// SPDX-License-Identifier: GPL-3.0-or-later
// How many backup jobs may run at once on the host (the job queue). Pure rules without Node imports, so the
// UI's dialog checks with the very same function before the (root) helper checks again.

/** More than anyone runs at once: a bigger number is a typo, not a setting. */
export const MAX_BACKUP_JOBS_LIMIT = 64;

export type MaxBackupJobsProblem = "not-a-number" | "out-of-range";

/** "At most N backup jobs at once" as typed or stored, or the reason it is refused. */
export function checkMaxBackupJobs(value: unknown): { max: number } | { problem: MaxBackupJobsProblem } {
    const n = typeof value === "string" && /^\s*\d{1,6}\s*$/.test(value) ? Number(value) : value;
    if (typeof n !== "number" || !Number.isInteger(n))
        return { problem: "not-a-number" };
    if (n < 1 || n > MAX_BACKUP_JOBS_LIMIT)
        return { problem: "out-of-range" };
    return { max: n };
}

/** One English sentence for a problem (the helper's error; the UI translates its own). */
export function describeMaxBackupJobsProblem(problem: MaxBackupJobsProblem, value: unknown): string {
    switch (problem) {
    case "not-a-number": return "the number of backup jobs at once must be a whole number";
    case "out-of-range": return `the number of backup jobs at once must be from 1 to ${MAX_BACKUP_JOBS_LIMIT}, not ${String(value).trim()}`;
    }
}
