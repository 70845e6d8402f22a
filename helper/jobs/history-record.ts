// SPDX-License-Identifier: GPL-3.0-or-later
// A job's history record as pure functions of its state: the record a job starts with, the one it ends
// with, the record of a job that ended without saying so, and one log line per engine event. No I/O.
import type { HistoryJobType, HistoryRecord, HistoryResult, JobState } from "../protocol/job-types.ts";

/** What a run keeps of its warnings in the record (all of them are in its log). */
const MAX_WARNINGS = 20;

export const UNEXPECTED_END = "the job ended unexpectedly (its process was killed or the host stopped) without recording a result";

export interface HistoryStart {
    id: string;
    type: HistoryJobType;
    kind: "manual" | "scheduled";
    startedAt: number;
    level?: string;
    point?: string;
}

export interface HistoryEnd {
    result: Exclude<HistoryResult, "running">;
    endedAt: number;
    bytes?: number;
    seconds?: number;
    queuedSeconds?: number;
    warnings?: string[];
    error?: string;
    level?: string;
    point?: string;
}

export function startRecord(start: HistoryStart): HistoryRecord {
    return { ...start, result: "running", warnings: [] };
}

export function endRecord(record: HistoryRecord, end: HistoryEnd): HistoryRecord {
    const { warnings, ...rest } = end;
    return { ...record, ...rest, warnings: (warnings ?? record.warnings).slice(-MAX_WARNINGS) };
}

/** A record without an end whose job is gone (its lock is free): failed, "ended unexpectedly". */
export function unexpectedEnd(record: HistoryRecord, now: number): HistoryRecord {
    return endRecord(record, { result: "failed", endedAt: now, error: UNEXPECTED_END });
}

/** ok, or warnings when the job warned. */
function okResult(warnings: string[]): "ok" | "warnings" {
    return warnings.length > 0 ? "warnings" : "ok";
}

/** The start of a backup or restore job's record, from the first state the page's start wrote. */
export function jobStart(job: JobState): HistoryStart {
    return {
        id: job.id,
        type: job.kind,
        kind: job.kind === "backup" && job.scheduled ? "scheduled" : "manual",
        startedAt: job.startedAt,
        ...(job.kind === "backup" ? { level: job.level } : { point: job.point }),
    };
}

/** The end of a backup or restore job's record, from its final state. */
export function jobEnd(job: JobState, now: number, ran: { since: number; queuedAt?: number } | undefined): HistoryEnd {
    const result: HistoryEnd["result"] = job.state === "succeeded" ? okResult(job.warnings) : job.state === "cancelled" ? "cancelled" : "failed";
    const end: HistoryEnd = {
        result,
        endedAt: job.finishedAt ?? now,
        warnings: job.warnings,
        ...(result === "failed" || result === "cancelled" ? { error: job.message ?? "no reason was given" } : {}),
    };
    if (ran !== undefined) {
        end.seconds = Math.max(0, (end.endedAt - ran.since) / 1000);
        if (ran.queuedAt !== undefined)
            end.queuedSeconds = Math.max(0, (ran.since - ran.queuedAt) / 1000);
    }
    if (job.kind === "backup") {
        end.level = job.result?.level ?? job.plannedLevel ?? job.level;
        if (job.result) {
            end.bytes = job.result.disks.reduce((n, d) => n + d.dataBytes, 0);
            end.point = job.result.checkpoint;
        } else if (job.state === "succeeded") {
            end.bytes = 0;
        }
    } else if (job.result) {
        end.bytes = job.result.disks.reduce((n, d) => n + d.bytes, 0);
    }
    return end;
}

function hhmmss(ms: number): string {
    return new Date(ms).toISOString().slice(11, 19);
}

/**
 * One line of a run's log for an engine event (`--json` line of our CLIs), or null for the frequent ones
 * (progress). Times are UTC, as in the engine's own log.
 */
export function eventLine(event: { event: string; [k: string]: unknown }, now: number): string | null {
    const text = (() => {
        switch (event.event) {
        case "progress":
            return null;
        case "info":
        case "warning":
        case "error":
            return `${event.event === "info" ? "" : `${event.event}: `}${String(event.message ?? "")}`;
        case "plan":
            return Array.isArray(event.disks)
                ? `plan: ${typeof event.level === "string" ? `${event.level} backup ${String(event.checkpoint ?? "")}, ` : ""}${event.disks.length} disk(s)`
                : null;
        case "disk":
            return typeof event.dev === "string" ? `disk ${event.dev}: ${String(event.file ?? "")}` :
                `disk ${String(event.disk ?? "")}: ${String(event.output ?? "")} (${String(event.bytes ?? 0)} bytes)`;
        case "disk-done":
            return `disk ${String(event.dev ?? "")} done: ${String(event.bytes ?? 0)} bytes in ${String(event.file ?? "")}`;
        case "boot-file":
            return `boot file ${String(event.configured ?? "")}: ${String(event.status ?? "")}`;
        case "result":
            return "result: finished";
        default:
            return null;
        }
    })();
    return text === null ? null : `${hhmmss(now)} ${text.replace(/[\r\n]+/g, " ")}`;
}

const TYPES: readonly string[] = ["backup", "restore", "verify", "prune"];
const RESULTS: readonly string[] = ["ok", "warnings", "failed", "cancelled", "running"];
const RUN_ID = /^[0-9a-z]{1,16}-[0-9a-f]{8}$/;

/** A run id as jobs and history runs make them: base-36 milliseconds, a dash, 8 hex digits. */
export function isRunId(value: string): boolean {
    return RUN_ID.test(value);
}

/** A stored record, checked field by field; null when it is not one (a damaged or foreign file). */
export function parseRecord(value: unknown): HistoryRecord | null {
    if (typeof value !== "object" || value === null)
        return null;
    const r = value as Record<string, unknown>;
    const num = (k: string) => r[k] === undefined || (typeof r[k] === "number" && Number.isFinite(r[k]));
    const str = (k: string) => r[k] === undefined || typeof r[k] === "string";
    if (typeof r.id !== "string" || !isRunId(r.id) || !TYPES.includes(r.type as string) || !RESULTS.includes(r.result as string) ||
        (r.kind !== "manual" && r.kind !== "scheduled") || typeof r.startedAt !== "number" ||
        !["endedAt", "bytes", "seconds", "queuedSeconds"].every(num) || !["level", "point", "error"].every(str) ||
        !Array.isArray(r.warnings) || !r.warnings.every(w => typeof w === "string"))
        return null;
    return r as unknown as HistoryRecord;
}
