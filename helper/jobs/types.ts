// What the backup-job helper commands answer and what a job's state file holds. Shared, type-only,
// with the UI (src/backup-types.ts), which checks every answer against these shapes at run time.
import type { BackupResult } from "../backup/backup.ts";
import type { Level, RequestedLevel } from "../backup/levels.ts";

export type { Level, RequestedLevel };

/** A VM's backup settings, as stored in /etc/cockpit-virtnbdbackup/vms/<uuid>.json. */
export interface VmSettings {
    /** Absolute backup folder of the VM. */
    folder: string;
    /** lz4-compress the backup streams. */
    compress: boolean;
}

/** `get-settings` / `set-settings`: the settings plus where the UI watches the VM's job. */
export interface SettingsAnswer extends VmSettings {
    domain: string;
    uuid: string;
    /** True when nothing is stored yet and these are the defaults. */
    isDefault: boolean;
    /** The VM's job state file (watched by the page; may not exist yet). */
    statusFile: string;
}

export type JobPhase = "running" | "succeeded" | "failed" | "cancelled";

export interface JobDisk {
    dev: string;
    /** Bytes copied so far. */
    done: number;
    /** Bytes to copy; 0 until the engine has mapped the disk. */
    total: number;
    /** The data file being written (full path). */
    file?: string;
    /** ms since the epoch when the copy of this disk began / ended. */
    startedAt?: number;
    finishedAt?: number;
}

/** `/run/cockpit-virtnbdbackup/jobs/<uuid>.json`: the VM's current or last job. */
export interface JobState {
    id: string;
    kind: "backup";
    domain: string;
    uuid: string;
    /** The level asked for. */
    level: RequestedLevel;
    /** The level the engine chose (auto → full/inc, fallback full). */
    plannedLevel?: Level;
    /** The checkpoint (or ident) this backup makes. */
    checkpoint?: string;
    folder: string;
    compress: boolean;
    state: JobPhase;
    /** pid of the virtnbdbackup CLI process; null until it runs. */
    pid: number | null;
    /** pid of the runner that keeps this file; null until it runs. */
    runnerPid: number | null;
    /** ms since the epoch. */
    startedAt: number;
    updatedAt: number;
    finishedAt?: number;
    disks: JobDisk[];
    /** Why it failed, or the engine's last word. */
    message?: string;
    warnings: string[];
    result?: BackupResult;
}

/** `job-status` when the VM never had a job. */
export interface NoJob {
    state: "none";
}

export interface StartAnswer {
    id: string;
    statusFile: string;
}

export interface CancelAnswer {
    id: string;
    /** The signalled CLI process; null when it had not started yet (the runner stops it). */
    pid: number | null;
}

export interface RestorePointDisk {
    dev: string;
    /** Base name of the data file. */
    file: string;
    /** Payload bytes (meta dataSize). */
    dataSize: number;
    /** Bytes on disk. */
    fileSize: number;
    compressed: boolean;
}

export interface RestorePoint {
    /** Checkpoint name (virtnbdbackup.N), a differential's unix-time ident, or "copy". */
    name: string;
    level: Level;
    /** ISO-8601 local time from the meta frame. */
    date: string;
    disks: RestorePointDisk[];
    /** Every disk of the point is there, readable, and none is unfinished (.partial). */
    complete: boolean;
}

export interface RestorePointList {
    folder: string;
    /** The folder exists. */
    exists: boolean;
    /** No data files (a new backup will be a full). */
    empty: boolean;
    /** Bytes of all files in the folder. */
    totalSize: number;
    /** Checkpoints in the folder's chain (<vm>.cpt). */
    chainLength: number;
    /** Oldest first. */
    points: RestorePoint[];
    /** Files that could not be read, unfinished files, and other things worth telling. */
    problems: string[];
}
