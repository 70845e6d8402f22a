// SPDX-License-Identifier: GPL-3.0-or-later
// Which restore points of a chain a policy keeps, with Proxmox Backup Server's prune semantics: keep-last N
// keeps the newest N; keep-daily/weekly/monthly N keep the newest point of each of the last N days, ISO weeks
// or months that have one, not counting periods a point kept by an earlier rule already covers. The chain's
// newest point is always kept. Then how the dropped points are merged away (consolidation). Pure: no I/O.

export interface PointPolicy {
    last?: number | null;
    daily?: number | null;
    weekly?: number | null;
    monthly?: number | null;
}

export interface DatedPoint {
    name: string;
    date: Date;
}

const pad = (n: number) => String(n).padStart(2, "0");

function dayKey(d: Date): string {
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** ISO 8601 week (Monday first; the week with the year's first Thursday is week 1), local time. */
function weekKey(d: Date): string {
    const day = new Date(d.getFullYear(), d.getMonth(), d.getDate());
    const weekday = (day.getDay() + 6) % 7;
    day.setDate(day.getDate() - weekday + 3);  // the Thursday of this week decides its year
    const firstThursday = new Date(day.getFullYear(), 0, 4);
    const week = 1 + Math.round(((day.getTime() - firstThursday.getTime()) / 86_400_000 - 3 + ((firstThursday.getDay() + 6) % 7)) / 7);
    return `${day.getFullYear()}-W${pad(week)}`;
}

function monthKey(d: Date): string {
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}`;
}

/** Whether the policy keeps anything less than everything. */
export function hasPointPolicy(policy: PointPolicy): boolean {
    return Boolean(policy.last || policy.daily || policy.weekly || policy.monthly);
}

/** The names the policy keeps of `points` (oldest first); the newest is always among them. */
export function keptPoints(points: readonly DatedPoint[], policy: PointPolicy): Set<string> {
    const kept = new Set<string>();
    const newestFirst = [...points].reverse();
    const mark = (keep: number | null | undefined, key: (d: Date) => string) => {
        if (!keep)
            return;
        const covered = new Set(newestFirst.filter(p => kept.has(p.name)).map(p => key(p.date)));
        const chosen = new Set<string>();
        for (const p of newestFirst) {
            if (kept.has(p.name))
                continue;
            const k = key(p.date);
            if (covered.has(k) || chosen.has(k))
                continue;
            if (chosen.size >= keep)
                break;
            chosen.add(k);
            kept.add(p.name);
        }
    };
    if (policy.last)
        newestFirst.slice(0, policy.last).forEach(p => kept.add(p.name));
    mark(policy.daily, dayKey);
    mark(policy.weekly, weekKey);
    mark(policy.monthly, monthKey);
    if (newestFirst.length)
        kept.add(newestFirst[0].name);
    return kept;
}

/**
 * One consolidation: the points before `point` back to the chain's start (no `from`: a new full of
 * `point`), or the incrementals `from`..`point` into one incremental of `point`.
 */
export interface MergeStep {
    from?: string;
    point: string;
    /** The points it drops, oldest first. */
    drops: string[];
}

/**
 * The merges that drop every point not in `kept` (`points`: the chain's checkpoint points, oldest first),
 * newest first. A run of dropped points just before the newest point stays until a newer one exists (the
 * newest point's file is never replaced); `waiting` names those.
 */
export function mergeSteps(points: readonly string[], kept: ReadonlySet<string>): { steps: MergeStep[]; waiting: string[] } {
    const steps: MergeStep[] = [];
    let waiting: string[] = [];
    let run: string[] = [];
    points.forEach((p, i) => {
        if (!kept.has(p) && i < points.length - 1) {
            run.push(p);
            return;
        }
        if (run.length) {
            if (i === points.length - 1)
                waiting = run;
            else
                steps.push(run[0] === points[0] ? { point: p, drops: run } : { from: run[0], point: p, drops: run });
        }
        run = [];
    });
    return { steps: steps.reverse(), waiting };
}
