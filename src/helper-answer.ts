// SPDX-License-Identifier: GPL-3.0-or-later
// Pure half of the helper client: checks what the helper printed and turns spawn failures into
// typed errors. Kept free of cockpit.js so that it can be unit-tested under Node.
import { SCHEDULE_FREQUENCIES } from "../helper/protocol/schedule-rules";
import { LEVELS, REQUESTED_LEVELS } from "../helper/protocol/levels";
import type { DiskSummary, DomainSummary, ListVmsAnswer } from "./vm-types";
import type { HistoryAnswer, HostSettingsAnswer, JobLogAnswer } from "./backup-types";
import type {
    CancelAnswer, CheckFolderAnswer, ConsolidateAnswer, MergeProgress, JobState, NoJob, PruneAnswer, RestoreCheckAnswer, RestorePointList, SettingsAnswer, StartAnswer, VerifyAnswer, VerifyProgress,
} from "./backup-types";

export type HelperErrorKind =
    /** The user may not run things as root (spawn with superuser "require" was refused). */
    | "not-admin"
    /** `node` is not installed on the host (the bridge could not find the program). */
    | "node-missing"
    /** The helper ran and failed; `detail` is its one-line explanation from stderr. */
    | "failed"
    /** The helper printed something that is not the expected answer. */
    | "unexpected";

export class HelperError extends Error {
    readonly kind: HelperErrorKind;
    /** Text to show under the error's title: the helper's stderr or what was wrong with the answer. */
    readonly detail: string;

    constructor(kind: HelperErrorKind, detail: string) {
        super(`${kind}: ${detail}`);
        this.name = "HelperError";
        this.kind = kind;
        this.detail = detail;
    }
}

/** The text to show for a failed helper call (or any other error). */
export function errorDetail(error: unknown): string {
    return error instanceof HelperError ? error.detail : String(error);
}

type Shape = "string" | "number" | "boolean" | "string|null" | "number|null";

export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fits(value: unknown, shape: Shape): boolean {
    if (shape.endsWith("|null") && value === null)
        return true;
    const type = shape.replace("|null", "");
    if (type === "number")
        return typeof value === "number" && Number.isFinite(value);
    return typeof value === type;
}

/** Throws "unexpected" naming the first field of `record` that does not have its shape. */
export function checkFields(record: unknown, fields: Record<string, Shape>, where: string): void {
    if (!isRecord(record))
        throw new HelperError("unexpected", `${where} is not an object`);
    for (const [key, shape] of Object.entries(fields)) {
        if (!fits(record[key], shape))
            throw new HelperError("unexpected", `${where}.${key} is not ${shape}`);
    }
}

const DISK_FIELDS: Record<keyof DiskSummary, Shape> = {
    target: "string",
    device: "string",
    format: "string|null",
    path: "string|null",
    capacity: "number|null",
    allocation: "number|null",
};

const VM_FIELDS: Record<Exclude<keyof DomainSummary, "disks" | "backup">, Shape> = {
    name: "string",
    uuid: "string",
    // Any string: a state this UI does not know yet is shown as it is, not treated as an error.
    state: "string",
    persistent: "boolean",
};

export function parseJson(stdout: string): unknown {
    try {
        return JSON.parse(stdout);
    } catch {
        const shown = stdout.trim().slice(0, 200);
        throw new HelperError("unexpected", shown ? `not JSON: ${shown}` : "no output");
    }
}

/** Parses and checks the stdout of `helper list-vms`. Extra fields are allowed (newer helpers). */
export function parseVmList(stdout: string): ListVmsAnswer {
    const answer = parseJson(stdout);
    if (!isRecord(answer) || !Array.isArray(answer.vms))
        throw new HelperError("unexpected", "answer has no \"vms\" list");
    answer.vms.forEach((vm: unknown, i: number) => {
        const where = `vms[${i}]`;
        checkFields(vm, VM_FIELDS, where);
        const disks = (vm as Record<string, unknown>).disks;
        if (!Array.isArray(disks))
            throw new HelperError("unexpected", `${where}.disks is not a list`);
        disks.forEach((disk: unknown, j: number) => checkFields(disk, DISK_FIELDS, `${where}.disks[${j}]`));
    });
    return answer as unknown as ListVmsAnswer;
}

/**
 * Maps what a failed cockpit.spawn() rejected with (287: a plain object with problem,
 * exit_status, exit_signal and message; message is stderr when spawned with err: "message").
 */
export function helperFailure(failure: unknown): HelperError {
    if (failure instanceof HelperError)
        return failure;
    if (!isRecord(failure))
        return new HelperError("unexpected", String(failure));
    const problem = typeof failure.problem === "string" ? failure.problem : null;
    // The helper's stderr line starts with its name, which says nothing on the page.
    const message = typeof failure.message === "string" ? failure.message.trim().replace(/^helper: /, "") : "";
    if (problem === "access-denied")
        return new HelperError("not-admin", message);
    if (problem === "not-found")
        return new HelperError("node-missing", message);
    if (problem)
        return new HelperError("failed", message || problem);
    if (typeof failure.exit_signal === "number")
        return new HelperError("failed", message || `helper killed by signal ${failure.exit_signal}`);
    if (typeof failure.exit_status === "number")
        return new HelperError("failed", message || `helper exited with code ${failure.exit_status}`);
    return new HelperError("failed", message || "unknown failure");
}

// ---- Backup commands (get-settings, set-settings, start-backup, job-status, cancel-job,
// list-restore-points) and the job state file. Extra fields are allowed here too.

const JOB_PHASES = ["running", "succeeded", "failed", "cancelled"];

export function checkOneOf(record: Record<string, unknown>, key: string, allowed: readonly string[], where: string): void {
    if (typeof record[key] !== "string" || !allowed.includes(record[key] as string))
        throw new HelperError("unexpected", `${where}.${key} is not one of ${allowed.join(", ")}`);
}

export function checkOptional(record: Record<string, unknown>, fields: Record<string, Shape>, where: string): void {
    for (const [key, shape] of Object.entries(fields)) {
        if (record[key] !== undefined && !fits(record[key], shape))
            throw new HelperError("unexpected", `${where}.${key} is not ${shape}`);
    }
}

export function checkList(record: Record<string, unknown>, key: string, where: string, item: (value: unknown, where: string) => void): void {
    const list = record[key];
    if (!Array.isArray(list))
        throw new HelperError("unexpected", `${where}.${key} is not a list`);
    list.forEach((value: unknown, i: number) => item(value, `${where}.${key}[${i}]`));
}

export function parseSettingsAnswer(stdout: string): SettingsAnswer {
    const answer = parseJson(stdout);
    checkFields(answer, { domain: "string", uuid: "string", folder: "string", compress: "boolean", isDefault: "boolean", statusFile: "string" }, "settings");
    const schedule = (answer as Record<string, unknown>).schedule;
    checkFields(schedule, { weekday: "number", time: "string" }, "settings.schedule");
    const record = schedule as Record<string, unknown>;
    checkOneOf(record, "frequency", [...SCHEDULE_FREQUENCIES], "settings.schedule");
    if (!Number.isInteger(record.weekday) || (record.weekday as number) < 0 || (record.weekday as number) > 6)
        throw new HelperError("unexpected", "settings.schedule.weekday is not a day 0-6");
    if (record.randomDelay !== undefined && !Number.isInteger(record.randomDelay))
        throw new HelperError("unexpected", "settings.schedule.randomDelay is not a whole number");
    checkOneOf(answer as Record<string, unknown>, "scheduler", ["running", "stopped", "missing"], "settings");
    const timer = (answer as Record<string, unknown>).timer;
    if (timer !== undefined && typeof timer !== "string")
        throw new HelperError("unexpected", "settings.timer is not a unit name");
    return answer as SettingsAnswer;
}

const FOLDER_WARNINGS = ["temporary"];

export function parseCheckFolderAnswer(stdout: string): CheckFolderAnswer {
    const answer = parseJson(stdout);
    checkFields(answer, { folder: "string" }, "check-folder");
    const record = answer as Record<string, unknown>;
    if (record.problem !== undefined && typeof record.problem !== "string")
        throw new HelperError("unexpected", "check-folder.problem is not a string");
    checkList(record, "warnings", "check-folder", (warning, w) => {
        if (typeof warning !== "string" || !FOLDER_WARNINGS.includes(warning))
            throw new HelperError("unexpected", `${w} is not a known warning`);
    });
    if (record.facts !== undefined) {
        checkFields(record.facts, { exists: "boolean", foreignEntries: "number" }, "check-folder.facts");
        checkList(record.facts as Record<string, unknown>, "diskImages", "check-folder.facts", (image, w) => {
            if (typeof image !== "string")
                throw new HelperError("unexpected", `${w} is not a string`);
        });
    }
    return answer as CheckFolderAnswer;
}

export function parseStartAnswer(stdout: string): StartAnswer {
    const answer = parseJson(stdout);
    checkFields(answer, { id: "string", statusFile: "string" }, "start");
    return answer as StartAnswer;
}

export function parseCancelAnswer(stdout: string): CancelAnswer {
    const answer = parseJson(stdout);
    checkFields(answer, { id: "string", pid: "number|null" }, "cancel");
    return answer as CancelAnswer;
}

function checkJobState(value: unknown, where: string): JobState {
    checkFields(value, {
        id: "string", domain: "string", uuid: "string", folder: "string",
        pid: "number|null", runnerPid: "number|null", startedAt: "number", updatedAt: "number",
    }, where);
    const record = value as Record<string, unknown>;
    checkOneOf(record, "state", JOB_PHASES, where);
    checkOptional(record, { finishedAt: "number", message: "string" }, where);
    checkList(record, "disks", where, (disk, w) => {
        checkFields(disk, { dev: "string", done: "number", total: "number" }, w);
        checkOptional(disk as Record<string, unknown>, { file: "string", startedAt: "number", finishedAt: "number" }, w);
    });
    checkList(record, "warnings", where, (warning, w) => {
        if (typeof warning !== "string")
            throw new HelperError("unexpected", `${w} is not a string`);
    });
    if (record.kind === "restore") {
        checkFields(record, { point: "string", target: "string", define: "boolean" }, where);
        checkOptional(record, { name: "string" }, where);
        if (record.result !== undefined) {
            checkList(record.result as Record<string, unknown>, "disks", `${where}.result`, (disk, w) =>
                checkFields(disk, { disk: "string", output: "string", bytes: "number" }, w));
            checkOptional(record.result as Record<string, unknown>, { config: "string", defined: "string" }, `${where}.result`);
        }
        return value as JobState;
    }
    // A backup (state files of older helpers have no kind).
    checkFields(record, { compress: "boolean" }, where);
    checkOneOf(record, "level", REQUESTED_LEVELS, where);
    if (record.plannedLevel !== undefined)
        checkOneOf(record, "plannedLevel", LEVELS, where);
    checkOptional(record, { checkpoint: "string" }, where);
    if (record.result !== undefined)
        checkFields(record.result, { level: "string", checkpoint: "string", seconds: "number" }, `${where}.result`);
    return { ...record, kind: "backup" } as unknown as JobState;
}

export function parseRestoreCheck(stdout: string): RestoreCheckAnswer {
    const answer = parseJson(stdout);
    checkFields(answer, {}, "check");
    const record = answer as Record<string, unknown>;
    checkOptional(record, { resolvedTarget: "string" }, "check");
    for (const field of ["target", "name", "point"]) {
        if (record[field] !== undefined)
            checkFields(record[field], { code: "string", message: "string" }, `check.${field}`);
    }
    return answer as RestoreCheckAnswer;
}

/** `job-status`, or the content of the state file the page watches. */
export function parseJobStatus(text: string): JobState | NoJob {
    const answer = parseJson(text);
    if (isRecord(answer) && answer.state === "none")
        return { state: "none" };
    return checkJobState(answer, "job");
}

export function parseRestorePoints(stdout: string): RestorePointList {
    const answer = parseJson(stdout);
    checkFields(answer, { folder: "string", exists: "boolean", empty: "boolean", totalSize: "number", chainLength: "number" }, "points");
    const record = answer as Record<string, unknown>;
    checkList(record, "points", "points", (point, w) => {
        checkFields(point, { name: "string", date: "string", complete: "boolean" }, w);
        checkOneOf(point as Record<string, unknown>, "level", LEVELS, w);
        checkList(point as Record<string, unknown>, "disks", w, (disk, dw) =>
            checkFields(disk, { dev: "string", file: "string", dataSize: "number", fileSize: "number", compressed: "boolean" }, dw));
    });
    checkList(record, "problems", "points", (problem, w) => {
        if (typeof problem !== "string")
            throw new HelperError("unexpected", `${w} is not a string`);
    });
    return answer as RestorePointList;
}

export function parsePruneAnswer(stdout: string): PruneAnswer {
    const answer = parseJson(stdout);
    checkFields(answer, { folder: "string", keep: "number", dryRun: "boolean", freed: "number" }, "prune");
    const record = answer as Record<string, unknown>;
    checkList(record, "removed", "prune", (chain, w) => checkFields(chain, { name: "string", folder: "string", bytes: "number" }, w));
    checkList(record, "kept", "prune", (name, w) => {
        if (typeof name !== "string")
            throw new HelperError("unexpected", `${w} is not a string`);
    });
    if (record.skipped !== undefined)
        checkList(record, "skipped", "prune", (chain, w) => checkFields(chain, { chain: "string", reason: "string" }, w));
    return answer as PruneAnswer;
}

export function parseConsolidateAnswer(stdout: string): ConsolidateAnswer {
    return checkConsolidateAnswer(parseJson(stdout));
}

function checkConsolidateAnswer(answer: unknown): ConsolidateAnswer {
    checkFields(answer, { chain: "string", folder: "string", point: "string", dryRun: "boolean", freed: "number" }, "consolidate");
    const record = answer as Record<string, unknown>;
    for (const key of ["dropped", "removed", "written"]) {
        checkList(record, key, "consolidate", (name, w) => {
            if (typeof name !== "string")
                throw new HelperError("unexpected", `${w} is not a string`);
        });
    }
    return answer as ConsolidateAnswer;
}

/** The `points` part of `helper prune`'s answer: per chain, the points its policy drops and the space freed. */
export function parsePointsPreview(stdout: string): { points: { chain: string; dropped: string[]; freed: number; skipped?: string[] }[] } {
    const answer = parseJson(stdout);
    const record = (answer ?? {}) as Record<string, unknown>;
    checkList(record, "points", "prune", (chain, w) => {
        checkFields(chain, { chain: "string", freed: "number" }, w);
        for (const key of ["dropped", ...(chain as Record<string, unknown>).skipped !== undefined ? ["skipped"] : []]) {
            checkList(chain as Record<string, unknown>, key, w, (name, w2) => {
                if (typeof name !== "string")
                    throw new HelperError("unexpected", `${w2} is not a string`);
            });
        }
    });
    return answer as { points: { chain: string; dropped: string[]; freed: number; skipped?: string[] }[] };
}

const VERIFY_STATUSES = ["ok", "no-checksum", "mismatch", "damaged"];

function checkVerifyAnswer(answer: unknown): VerifyAnswer {
    checkFields(answer, { point: "string", folder: "string", ok: "boolean" }, "verify");
    const record = answer as Record<string, unknown>;
    checkList(record, "files", "verify", (file, w) => {
        checkFields(file, { file: "string", dev: "string", size: "number" }, w);
        checkOneOf(file as Record<string, unknown>, "status", VERIFY_STATUSES, w);
        checkOptional(file as Record<string, unknown>, { detail: "string" }, w);
    });
    checkList(record, "problems", "verify", (problem, w) => {
        if (typeof problem !== "string")
            throw new HelperError("unexpected", `${w} is not a string`);
    });
    return answer as VerifyAnswer;
}

/**
 * The stdout of a command that streams: JSON lines, progress first (`"event": "progress"`), the result last.
 * `onProgress` gets each complete progress line as it arrives, checked by `progress`; `finish` checks the
 * last line with `result` once all output is in.
 */
export class ProgressLines<P, R> {
    private pending = "";
    private last: unknown;

    constructor(private readonly onProgress: (p: P) => void, private readonly progress: (value: Record<string, unknown>) => P,
                private readonly result: (value: unknown) => R) {}

    push(chunk: string): void {
        const lines = (this.pending + chunk).split("\n");
        this.pending = lines.pop() ?? "";
        for (const line of lines.filter(l => l.trim() !== ""))
            this.line(line);
    }

    finish(): R {
        if (this.pending.trim() !== "")
            this.line(this.pending);
        this.pending = "";
        if (this.last === undefined)
            throw new HelperError("unexpected", "no output");
        return this.result(this.last);
    }

    private line(line: string): void {
        const value = parseJson(line);
        if (isRecord(value) && value.event === "progress") {
            this.onProgress(this.progress(value));
            return;
        }
        this.last = value;
    }
}

/** Disk or file `index` of `count`, `done` of `total` bytes: the fields every progress line has. */
export function checkProgress<P>(value: Record<string, unknown>): P {
    checkFields(value, { index: "number", count: "number", done: "number", total: "number" }, "progress");
    return value as P;
}

/** The stdout of `verify-restore-point`: progress file by file, the result last. */
export class VerifyOutput extends ProgressLines<VerifyProgress, VerifyAnswer> {
    constructor(onProgress: (p: VerifyProgress) => void) {
        super(onProgress, checkProgress<VerifyProgress>, checkVerifyAnswer);
    }
}

/** The stdout of `helper consolidate --yes --progress`: the merge's progress, the answer last. */
export class MergeOutput extends ProgressLines<MergeProgress, ConsolidateAnswer> {
    constructor(onProgress: (p: MergeProgress) => void) {
        super(onProgress, value => {
            checkFields(value, { chain: "string", point: "string", file: "string" }, "progress");
            return checkProgress<MergeProgress>(value);
        }, checkConsolidateAnswer);
    }
}

const HISTORY_TYPES = ["backup", "restore", "verify", "prune"];
const HISTORY_RESULTS = ["ok", "warnings", "failed", "cancelled", "running"];

/** `helper job-history`: the records, newest first. */
export function parseHistory(stdout: string): HistoryAnswer {
    const answer = parseJson(stdout);
    if (!isRecord(answer))
        throw new HelperError("unexpected", "history is not an object");
    checkList(answer, "records", "history", (record, w) => {
        checkFields(record, { id: "string", kind: "string", startedAt: "number" }, w);
        checkOneOf(record as Record<string, unknown>, "type", HISTORY_TYPES, w);
        checkOneOf(record as Record<string, unknown>, "result", HISTORY_RESULTS, w);
        checkList(record as Record<string, unknown>, "warnings", w, (warning, ww) => {
            if (typeof warning !== "string")
                throw new HelperError("unexpected", `${ww} is not a string`);
        });
    });
    return answer as unknown as HistoryAnswer;
}

/** `helper job-log`: one run's log. */
export function parseJobLog(stdout: string): JobLogAnswer {
    const answer = parseJson(stdout);
    checkFields(answer, { id: "string", text: "string" }, "log");
    return answer as JobLogAnswer;
}

/** `helper get-host-settings` / `set-host-settings`: the job queue's size. */
export function parseHostSettings(stdout: string): HostSettingsAnswer {
    const answer = parseJson(stdout);
    checkFields(answer, { maxBackupJobs: "number", isDefault: "boolean" }, "host-settings");
    return answer as HostSettingsAnswer;
}
