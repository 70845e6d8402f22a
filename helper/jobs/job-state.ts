// SPDX-License-Identifier: GPL-3.0-or-later
// A job's state as a pure reduction of the CLI's --json events: no I/O, no clock (times are passed in).
import type { BackupEvent, BackupResult } from "../backup/backup.ts";
import type { BackupJobState, JobDisk, RequestedLevel } from "../protocol/job-types.ts";

/** What the CLI prints last: the result, or why it failed. */
export type FinalEvent =
    | ({ event: "result" } & BackupResult)
    | { event: "error"; message: string };

export type CliEvent = BackupEvent | FinalEvent;

/** Warnings kept in the state file (the full log is in the backup folder). */
const MAX_WARNINGS = 20;

export interface NewJob {
    id: string;
    domain: string;
    uuid: string;
    level: RequestedLevel;
    folder: string;
    compress: boolean;
    scheduled?: boolean;
}

export function initialState(job: NewJob, now: number): BackupJobState {
    return { ...job, kind: "backup", state: "running", pid: null, runnerPid: null, startedAt: now, updatedAt: now, disks: [], warnings: [] };
}

/** `disks` with the one named `dev` changed (added first, empty, when it is not there yet). */
export function withDisk(disks: JobDisk[], dev: string, change: (d: JobDisk) => JobDisk): JobDisk[] {
    const all = disks.some(d => d.dev === dev) ? disks : [...disks, { dev, done: 0, total: 0 }];
    return all.map(d => d.dev === dev ? change(d) : d);
}

/** The state after one event. Finished jobs do not change any more. */
export function applyEvent(state: BackupJobState, e: CliEvent, now: number): BackupJobState {
    if (state.state !== "running")
        return state;
    const next: BackupJobState = { ...state, updatedAt: now };
    switch (e.event) {
    case "plan":
        next.plannedLevel = e.level;
        next.checkpoint = e.checkpoint;
        next.disks = e.disks.map(d => state.disks.find(o => o.dev === d.dev) ?? { dev: d.dev, done: 0, total: 0 });
        break;
    case "disk":
        next.disks = withDisk(state.disks, e.dev, d => ({ ...d, file: e.file, total: e.total, startedAt: d.startedAt ?? now }));
        break;
    case "progress":
        next.disks = withDisk(state.disks, e.dev, d => ({ ...d, done: e.done, total: e.total }));
        break;
    case "disk-done":
        // Copied bytes are final: done == total, even if the mapped total was an estimate.
        next.disks = withDisk(state.disks, e.dev, d => ({ ...d, done: e.bytes, total: Math.max(d.total, e.bytes), finishedAt: now }));
        break;
    case "warning":
        next.warnings = [...state.warnings, e.message].slice(-MAX_WARNINGS);
        break;
    case "info":
        break;  // kept in the backup folder's log, not needed by the page
    case "result": {
        const { event: _event, ...result } = e;
        next.result = result;
        next.plannedLevel = result.level;
        next.checkpoint = result.checkpoint;
        break;
    }
    case "error":
        next.message = e.message;
        break;
    }
    return next;
}

export type JobEnd =
    | { kind: "exit"; code: number | null; signal: string | null; cancelRequested: boolean; stderrTail?: string }
    | { kind: "spawn-error"; message: string };

/** What finishing a job needs of its state, whatever the job. */
interface FinishableState {
    state: string;
    message?: string;
    result?: unknown;
    updatedAt: number;
}

/**
 * The final state of a job (backup or restore) once its CLI process has ended: succeeded only with a
 * result event and exit 0; cancelled when cancel-job asked; otherwise failed, with the engine's own
 * error event as the reason, or stderr, or how the process ended.
 */
export function finishJobState<T extends FinishableState>(state: T, end: JobEnd, now: number, what: { noun: string; cancelled: string }): T {
    if (state.state !== "running")
        return state;
    const done = { ...state, updatedAt: now, finishedAt: now };
    if (end.kind === "spawn-error")
        return { ...done, state: "failed", message: end.message };
    if (end.code === 0 && state.result)
        return { ...done, state: "succeeded" };
    if (end.cancelRequested)
        return { ...done, state: "cancelled", message: what.cancelled };
    const why = state.message
        ?? (end.stderrTail?.trim() || (end.signal ? `the ${what.noun} process was killed by ${end.signal}` : `the ${what.noun} process exited with code ${end.code}`));
    return { ...done, state: "failed", message: why };
}

/** The final state once the backup CLI has ended. */
export function finishState(state: BackupJobState, end: JobEnd, now: number): BackupJobState {
    return finishJobState(state, end, now, { noun: "backup", cancelled: "the backup was cancelled; its files and checkpoint were removed" });
}
