// SPDX-License-Identifier: GPL-3.0-or-later
// The history record of a page's job (backup or restore), kept by its runner: opened with the job's first
// state, a log line per engine event, ended with its final state. A history that cannot be written never
// fails the job: the runner says why on its stderr (its log file) and goes on.
import { eventLine, jobEnd, jobStart } from "./history-record.ts";
import { HistoryRun, HISTORY_DIR } from "./history.ts";
import type { JobState } from "../protocol/job-types.ts";
import { readJsonFile } from "./atomic-file.ts";
import { statusFile } from "./paths.ts";

export class JobHistory {
    private ran: { since: number; queuedAt?: number } | undefined;
    private queuedAt: number | undefined;

    private constructor(private readonly run: HistoryRun) {}

    static start(uuid: string, first: JobState, dir = HISTORY_DIR): JobHistory | undefined {
        try {
            return new JobHistory(HistoryRun.open(uuid, jobStart(first), dir));
        } catch (err) {
            process.stderr.write(`helper: the job's history is not recorded: ${err instanceof Error ? err.message : String(err)}\n`);
            return undefined;
        }
    }

    /** The work itself begins (after any wait for a backup slot). */
    running(now: number): void {
        this.ran = { since: now, ...(this.queuedAt !== undefined ? { queuedAt: this.queuedAt } : {}) };
    }

    /** The job waits for a backup slot. */
    queued(now: number): void {
        this.queuedAt = now;
        this.line("queued: waiting for a free backup slot (host-wide limit of backup jobs at once)", now);
    }

    line(text: string, now: number): void {
        this.guard(() => this.run.log(`${new Date(now).toISOString().slice(11, 19)} ${text}`));
    }

    event(event: { event: string; [k: string]: unknown }, now: number): void {
        const line = eventLine(event, now);
        if (line !== null)
            this.guard(() => this.run.log(line));
    }

    end(final: JobState, now: number): void {
        this.guard(() => {
            if (final.message)
                this.run.log(`${new Date(now).toISOString().slice(11, 19)} ${final.state}: ${final.message}`);
            this.run.end(jobEnd(final, now, this.ran));
        });
    }

    private guard(write: () => void): void {
        try {
            write();
        } catch (err) {
            process.stderr.write(`helper: the job's history: ${err instanceof Error ? err.message : String(err)}\n`);
        }
    }
}

/** The first state the page's start wrote for job `id` (still running), if the state file holds it. */
export function startedJob(uuid: string, id: string): JobState | undefined {
    try {
        const stored = readJsonFile(statusFile(uuid)) as JobState | undefined;
        return stored?.id === id && stored.state === "running" ? stored : undefined;
    } catch {
        return undefined;  // not a UUID, or no readable state: no job of ours
    }
}

/** A job whose runner refused its arguments: recorded as failed with the reason (the page's first state names it). */
export function recordRefusedJob(uuid: string, first: JobState | undefined, message: string, now = Date.now(), dir = HISTORY_DIR): void {
    if (!first || first.state !== "running")
        return;
    const history = JobHistory.start(uuid, first, dir);
    history?.end({ ...first, state: "failed", message, finishedAt: now, updatedAt: now }, now);
}
