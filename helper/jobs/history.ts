// SPDX-License-Identifier: GPL-3.0-or-later
// The job history on disk, per VM: /var/lib/cockpit-virtnbdbackup/history/<uuid>/ (root only, 0700) holds one
// record per run (<id>.json, 0600, replaced atomically: at the start, then with the end) and its log
// (<id>.log, created new, appended, capped). The run holds flock(2) on its log while it lives; a record
// without an end whose log nobody holds belongs to a job that was killed (SIGKILL, a crash, a reboot): the
// reader that finds it records it as failed, "ended unexpectedly". The last MAX_RECORDS runs are kept.
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { tryLock } from "fileio-node";
import { privateDir } from "../backup/run-dir.ts";
import { createFresh, writeFileAtomic } from "../fs/safe-open.ts";
import { checkUuid } from "./paths.ts";
import { endRecord, isRunId, parseRecord, startRecord, unexpectedEnd, type HistoryEnd, type HistoryStart } from "./history-record.ts";
import type { HistoryRecord } from "../protocol/job-types.ts";

export const STATE_DIR = "/var/lib/cockpit-virtnbdbackup";
export const HISTORY_DIR = path.join(STATE_DIR, "history");
/** Runs kept per VM (older ones go when a new one starts). */
export const MAX_RECORDS = 100;
/** A run's log stops growing here, with a last line saying so. */
export const MAX_LOG_BYTES = 256 * 1024;

const { O_RDONLY, O_NOFOLLOW } = fs.constants;

/** A new run id: base-36 milliseconds (sorts by time), a dash, 8 random hex digits. */
export function newRunId(now = Date.now()): string {
    return `${now.toString(36)}-${randomBytes(4).toString("hex")}`;
}

/** The VM's history folder, made (each level root only) when missing. */
function vmFolder(uuid: string, dir: string): string {
    const parent = path.dirname(dir);
    if (parent === STATE_DIR)
        privateDir(STATE_DIR);
    privateDir(dir);
    return privateDir(path.join(dir, checkUuid(uuid)));
}

/** The VM's history folder to read, or undefined when there is none; refuses anything but a real folder of ours. */
function existingVmFolder(uuid: string, dir: string): string | undefined {
    const folder = path.join(dir, checkUuid(uuid));
    const st = fs.lstatSync(folder, { throwIfNoEntry: false });
    if (!st)
        return undefined;
    if (!st.isDirectory() || st.uid !== process.geteuid!() || (st.mode & 0o077) !== 0)
        throw new Error(`refusing history folder ${folder}: not a private folder of the helper's user`);
    return folder;
}

/** One run being recorded: its record (written now), its log (locked while the run lives). */
export class HistoryRun {
    private logBytes = 0;
    private cut = false;
    private ended = false;
    private record: HistoryRecord;

    private constructor(private readonly folder: string, private readonly logFd: number, start: HistoryStart) {
        this.record = startRecord(start);
        this.writeRecord();
    }

    /** Starts the record of a run (the lock on its log is taken before the record exists). */
    static open(uuid: string, start: HistoryStart, dir = HISTORY_DIR): HistoryRun {
        if (!isRunId(start.id))
            throw new Error(`invalid run id ${JSON.stringify(start.id)}`);
        const folder = vmFolder(uuid, dir);
        const fd = createFresh(path.join(folder, `${start.id}.log`));
        if (!tryLock(fd)) {
            fs.closeSync(fd);
            throw new Error(`the log of run ${start.id} is held by another process`);
        }
        const run = new HistoryRun(folder, fd, start);
        dropOldRecords(folder, start.id);
        return run;
    }

    get id(): string {
        return this.record.id;
    }

    /** Adds a line to the run's log (until it reaches MAX_LOG_BYTES). */
    log(line: string): void {
        if (this.cut || this.ended)
            return;
        const data = Buffer.from(line.endsWith("\n") ? line : `${line}\n`, "utf8");
        if (this.logBytes + data.length > MAX_LOG_BYTES) {
            this.cut = true;
            fs.writeSync(this.logFd, `… the log is cut here: runs keep at most ${MAX_LOG_BYTES / 1024} KiB of it\n`);
            return;
        }
        fs.writeSync(this.logFd, data);
        this.logBytes += data.length;
    }

    /** Records the end, then lets go of the log (and its lock). A second end changes nothing. */
    end(end: HistoryEnd): HistoryRecord {
        if (this.ended)
            return this.record;
        this.record = endRecord(this.record, end);
        this.writeRecord();
        this.ended = true;
        fs.closeSync(this.logFd);
        return this.record;
    }

    private writeRecord(): void {
        writeFileAtomic(path.join(this.folder, `${this.record.id}.json`), JSON.stringify(this.record) + "\n");
    }
}

/** Record file names of a folder, newest first (run ids sort by their start time). */
function recordNames(folder: string): string[] {
    return fs.readdirSync(folder).filter(n => n.endsWith(".json") && isRunId(n.slice(0, -5))).sort().reverse();
}

function readRecordFile(file: string): HistoryRecord | null {
    let fd: number;
    try {
        fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW);
    } catch {
        return null;  // gone meanwhile, or a symlink
    }
    try {
        if (!fs.fstatSync(fd).isFile())
            return null;
        return parseRecord(JSON.parse(fs.readFileSync(fd, "utf8")));
    } catch {
        return null;
    } finally {
        fs.closeSync(fd);
    }
}

/**
 * A record without an end: still running while its log is locked; otherwise its job died, and the record
 * is ended as failed (re-read under the lock: the job may have ended just before letting go).
 */
function settle(folder: string, record: HistoryRecord, now: number): HistoryRecord {
    if (record.endedAt !== undefined)
        return record;
    let fd: number;
    try {
        fd = fs.openSync(path.join(folder, `${record.id}.log`), O_RDONLY | O_NOFOLLOW);
    } catch {
        fd = -1;  // no log: nothing can hold it
    }
    try {
        if (fd >= 0 && !tryLock(fd))
            return record;  // the run lives
        const again = readRecordFile(path.join(folder, `${record.id}.json`));
        if (again?.endedAt !== undefined)
            return again;
        const ended = unexpectedEnd(record, now);
        writeFileAtomic(path.join(folder, `${record.id}.json`), JSON.stringify(ended) + "\n");
        return ended;
    } finally {
        if (fd >= 0)
            fs.closeSync(fd);
    }
}

/** The VM's records, newest first (at most `limit`); jobs that died are recorded as failed on the way. */
export function readHistory(uuid: string, dir = HISTORY_DIR, limit = MAX_RECORDS, now = Date.now()): HistoryRecord[] {
    const folder = existingVmFolder(uuid, dir);
    if (!folder)
        return [];
    const records: HistoryRecord[] = [];
    for (const name of recordNames(folder)) {
        if (records.length >= limit)
            break;
        const record = readRecordFile(path.join(folder, name));
        if (record && record.id === name.slice(0, -5))
            records.push(settle(folder, record, now));
    }
    return records;
}

/** The newest record of this type (the VM list's "last backup"); cheap: reads newest first and stops. */
export function lastRecordOf(uuid: string, type: HistoryRecord["type"], dir = HISTORY_DIR, now = Date.now()): HistoryRecord | undefined {
    const folder = existingVmFolder(uuid, dir);
    if (!folder)
        return undefined;
    for (const name of recordNames(folder)) {
        const record = readRecordFile(path.join(folder, name));
        if (record && record.id === name.slice(0, -5) && record.type === type)
            return settle(folder, record, now);
    }
    return undefined;
}

/** One run's log; a clear error when the VM has no such run. */
export function readRunLog(uuid: string, id: string, dir = HISTORY_DIR): string {
    if (!isRunId(id))
        throw new Error(`invalid run id ${JSON.stringify(id)}`);
    const folder = existingVmFolder(uuid, dir);
    const file = folder && path.join(folder, `${id}.log`);
    let fd: number;
    try {
        if (!file || !fs.existsSync(path.join(folder, `${id}.json`)))
            throw new Error("no record");
        fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW);
    } catch {
        throw new Error(`there is no run ${id} in this virtual machine's history`);
    }
    try {
        if (!fs.fstatSync(fd).isFile())
            throw new Error(`the log of run ${id} is not a regular file`);
        return fs.readFileSync(fd, "utf8");
    } finally {
        fs.closeSync(fd);
    }
}

/** Removes the oldest ended runs beyond MAX_RECORDS (never `keep`, never one that still runs). */
function dropOldRecords(folder: string, keep: string): void {
    const names = recordNames(folder);
    for (const name of names.slice(MAX_RECORDS)) {
        const id = name.slice(0, -5);
        const record = readRecordFile(path.join(folder, name));
        if (id === keep || (record && settle(folder, record, Date.now()).endedAt === undefined))
            continue;
        fs.rmSync(path.join(folder, `${id}.log`), { force: true });
        fs.rmSync(path.join(folder, name), { force: true });
    }
}
