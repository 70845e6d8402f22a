// SPDX-License-Identifier: GPL-3.0-or-later
// A restore job's state as a pure reduction of `virtnbdrestore --json` events: no I/O, no clock.
import type { RestoreEvent, RestoreResult } from "../restore/restore.ts";
import { finishJobState, withDisk, type JobEnd } from "./job-state.ts";
import type { RestoreJobState } from "../protocol/job-types.ts";

/** What the restore CLI prints last: the result, or why it failed. */
export type RestoreCliEvent =
    | RestoreEvent
    | ({ event: "result"; action: string } & RestoreResult)
    | { event: "error"; message: string; file?: string };

const MAX_WARNINGS = 20;

export interface NewRestoreJob {
    id: string;
    domain: string;
    uuid: string;
    folder: string;
    point: string;
    target: string;
    define: boolean;
    name?: string;
}

export function initialRestoreState(job: NewRestoreJob, now: number): RestoreJobState {
    return {
        ...job, kind: "restore", state: "running", pid: null, runnerPid: null, startedAt: now, updatedAt: now, disks: [], warnings: [],
    };
}

/** The state after one event. Finished jobs do not change any more. */
export function applyRestoreEvent(state: RestoreJobState, e: RestoreCliEvent, now: number): RestoreJobState {
    if (state.state !== "running")
        return state;
    const next: RestoreJobState = { ...state, updatedAt: now };
    switch (e.event) {
    case "plan":
        next.disks = e.disks.map(d => ({ dev: d.disk, done: 0, total: d.total, file: d.output }));
        break;
    case "progress":
        next.disks = withDisk(state.disks, e.disk, d => {
            const copied = { ...d, done: e.done, total: e.total, startedAt: d.startedAt ?? now };
            // The engine names a disk's image only once all disks are done: its own end is its last byte.
            return e.total > 0 && e.done >= e.total && d.finishedAt === undefined ? { ...copied, finishedAt: now } : copied;
        });
        break;
    case "disk":
        next.disks = withDisk(state.disks, e.disk, d => ({ ...d, file: e.output, done: e.bytes, total: Math.max(d.total, e.bytes), finishedAt: d.finishedAt ?? now }));
        break;
    case "warning":
        next.warnings = [...state.warnings, e.message].slice(-MAX_WARNINGS);
        break;
    case "boot-file":
        break;  // part of the result
    case "result":
        next.result = {
            disks: e.disks.map(d => ({ disk: d.disk, output: d.output, bytes: d.bytes })),
            ...(e.config ? { config: e.config } : {}),
            ...(e.defined ? { defined: e.defined } : {}),
        };
        break;
    case "error":
        next.message = e.message;
        break;
    }
    return next;
}

/** The final state once the restore CLI has ended. */
export function finishRestoreState(state: RestoreJobState, end: JobEnd, now: number): RestoreJobState {
    return finishJobState(state, end, now, { noun: "restore", cancelled: "the restore was cancelled; the files it had written were removed" });
}
