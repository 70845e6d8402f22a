// SPDX-License-Identifier: GPL-3.0-or-later
// What the backup-job helper commands answer and what a job's state file holds. Shared, type-only,
// with the UI (src/backup-types.ts), which checks every answer against these shapes at run time.
import type { JobLevel, Level, RequestedLevel } from "./levels.ts";
import type { Schedule } from "./schedule-rules.ts";
import type { NewChainPolicy } from "./retention-rules.ts";
import type { FolderWarning } from "./folder-rules.ts";

/** What one backup run made (the last line of a backup's JSON answer). */
export interface BackupResult {
    domain: string;
    level: Level;
    checkpoint: string;
    parent: string;
    files: string[];
    disks: { dev: string; file: string; dataBytes: number; fileBytes: number }[];
    seconds: number;
    /** libvirt's estimate of the bytes changed since the parent checkpoint, when it was asked for. */
    changedBytes?: number;
    /** No backup was made (estimateOnly, or fewer changes than the threshold): nothing changed. */
    skipped?: boolean;
}

export type { JobLevel, Level, NewChainPolicy, RequestedLevel, Schedule };

/** A VM's backup settings, as stored in /etc/cockpit-virtnbdbackup/vms/<uuid>.json. */
export interface VmSettings {
    /** Absolute backup folder of the VM. */
    folder: string;
    /** lz4-compress the backup streams. */
    compress: boolean;
    /** Automatic backups (level auto: a full into an empty folder, an inc otherwise). */
    schedule: Schedule;
    /** Keep the last N chains of the folder (pruned after each scheduled backup); null: keep all. */
    keepChains: number | null;
    /**
     * Keep the last N restore points of each chain: older ones are merged into a full (consolidation) after
     * each scheduled backup; null or absent: keep all.
     */
    keepPoints?: number | null;
    /** Keep the newest point of each of the last N days / ISO weeks / months in each chain (Proxmox semantics); null or absent: no such rule. */
    keepDaily?: number | null;
    keepWeekly?: number | null;
    keepMonthly?: number | null;
    /** When a scheduled backup starts a new chain: never, every week, every month, every N backups. */
    newChain: NewChainPolicy;
}

/** `get-settings` / `set-settings`: the settings plus where the UI watches the VM's job. */
export interface SettingsAnswer extends VmSettings {
    domain: string;
    uuid: string;
    /** True when nothing is stored yet and these are the defaults. */
    isDefault: boolean;
    /** The VM's job state file (watched by the page; may not exist yet). */
    statusFile: string;
    /** Whether the host runs scheduled backups: "running" (systemd, or a running cron), "stopped" or "missing" (no cron installed). */
    scheduler: "running" | "stopped" | "missing";
    /** The VM's systemd timer unit, where systemd runs its schedule. */
    timer?: string;
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

/** What every job's state has, backup or restore. */
interface JobBase {
    id: string;
    domain: string;
    uuid: string;
    /** The VM's backup folder (written by a backup, read by a restore). */
    folder: string;
    state: JobPhase;
    /** pid of the CLI process (virtnbdbackup or virtnbdrestore); null until it runs. */
    pid: number | null;
    /** pid of the runner that keeps this file; null until it runs. */
    runnerPid: number | null;
    /** The runner's PID namespace (inode of /proc/self/ns/pid); absent in states of older versions. */
    runnerPidNs?: number;
    /** ms since the epoch. */
    startedAt: number;
    updatedAt: number;
    finishedAt?: number;
    disks: JobDisk[];
    /** Why it failed, or the engine's last word. */
    message?: string;
    warnings: string[];
    /** Waiting for a free backup slot (host-wide job queue) since this time (ms); absent once it runs. */
    queuedSince?: number;
}

/** `/run/cockpit-virtnbdbackup/jobs/<uuid>.json` of a backup. */
export interface BackupJobState extends JobBase {
    kind: "backup";
    /** Started by the VM's schedule (cron), not from the page. */
    scheduled?: boolean;
    /** The level asked for. */
    level: RequestedLevel;
    /** The level the engine chose (auto → full/inc, fallback full). */
    plannedLevel?: Level;
    /** The checkpoint (or ident) this backup makes. */
    checkpoint?: string;
    compress: boolean;
    result?: BackupResult;
    /** A scheduled backup's retention run: the chains it removed ("" is the folder itself) and the bytes freed. */
    pruned?: { chains: string[]; freed: number; points?: string[] };
}

/** What a finished restore made. */
export interface RestoreJobResult {
    /** Each restored disk and its image. */
    disks: { disk: string; output: string; bytes: number }[];
    /** The adjusted domain config written beside the disks. */
    config?: string;
    /** The VM defined in libvirt. */
    defined?: string;
}

/** `/run/cockpit-virtnbdbackup/jobs/<uuid>.json` of a restore. */
export interface RestoreJobState extends JobBase {
    kind: "restore";
    /** The restore point (as list-restore-points names it). */
    point: string;
    /** The folder the disks are written into (real path). */
    target: string;
    /** Define a new VM from the restored disks. */
    define: boolean;
    /** Its name, when define. */
    name?: string;
    result?: RestoreJobResult;
}

/** The VM's current or last job: one at a time per VM, backup or restore. */
export type JobState = BackupJobState | RestoreJobState;

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
    /** The chain it belongs to: "" for the VM folder itself, else its chain subfolder (chain-N). */
    chain: string;
}

/** One chain of a VM's backup folder (helper/format/chain-folders.ts). */
export interface ChainSummary {
    /** "" for the VM folder itself (the first chain), else chain-N. */
    name: string;
    folder: string;
    /** Bytes of the chain's files. */
    totalSize: number;
    /** Checkpoints in its <vm>.cpt. */
    chainLength: number;
    /** Restore points it holds. */
    points: number;
    /** Dates (meta frame, local ISO-8601) of its oldest and newest points; null without points. */
    firstDate: string | null;
    lastDate: string | null;
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
    /** Oldest first (chain by chain, oldest chain first). */
    points: RestorePoint[];
    /** Files that could not be read, unfinished files, and other things worth telling. */
    problems: string[];
    /** The folder's chains, oldest first (empty when listing one chain folder). */
    chains: ChainSummary[];
}

/** One data file of a verified restore point's chain. */
export interface VerifyFile {
    /** Base name in the backup folder. */
    file: string;
    dev: string;
    level: Level;
    /** Bytes on disk. */
    size: number;
    /** ok: frames, lz4 checksums and checksum fine; no-checksum: as far as checked fine, no .chksum to
     * compare with; mismatch: the checksum differs (or the .chksum is not one); damaged: the file cannot
     * be read as a stream, or an lz4 frame fails its checksums. */
    status: "ok" | "no-checksum" | "mismatch" | "damaged";
    /** Why, for mismatch and damaged; for no-checksum, what could not be checked. */
    detail?: string;
}

/** `verify-restore-point`'s last line. */
export interface VerifyAnswer {
    event?: "result";
    point: string;
    folder: string;
    /** A restore of the point would succeed: the chain is sound and every file ok or without checksum. */
    ok: boolean;
    /** The files the point's restore reads, oldest first across disks. */
    files: VerifyFile[];
    /** Why a restore of the point would be refused, in the restore's own words (none when it would not). */
    problems: string[];
}

/** `verify-restore-point` prints one before each file and one at the end (file null). */
export interface VerifyProgress {
    event: "progress";
    file: string | null;
    /** Files checked so far, of count. */
    index: number;
    count: number;
    /** Bytes checked so far (whole files before the current one, and what of it is read), of total. */
    done: number;
    total: number;
}

/** One refused field: a code the page translates, and the helper's English sentence. */
export interface Refusal {
    /** A TargetProblem or NameProblem of restore-rules.ts, not-empty, not-a-folder, resolves-elsewhere, exists, unknown-point. */
    code: string;
    message: string;
}

/** `check-restore`: what the helper refuses about a restore request, per field (none: nothing refused). */
export interface RestoreCheckAnswer {
    target?: Refusal;
    name?: Refusal;
    point?: Refusal;
    /** The target folder as the restore would use it (real path). */
    resolvedTarget?: string;
}

/** What is on disk at a chosen backup folder (helper/jobs/folder-facts.ts). */
export interface FolderFacts {
    /** The folder exists (the helper creates it otherwise). */
    exists: boolean;
    /** Entries that neither a backup run nor a chain wrote. */
    foreignEntries: number;
    /** The VM's disk images inside the folder (at any depth). */
    diskImages: string[];
}

/** `check-folder`: what saving a folder as the VM's backup folder would say. */
export interface CheckFolderAnswer {
    folder: string;
    /** Why set-settings would refuse the folder (one English sentence); absent when it would accept it. */
    problem?: string;
    warnings: FolderWarning[];
    facts?: FolderFacts;
}

/** What a history record is of. */
export type HistoryJobType = "backup" | "restore" | "verify" | "prune";

/** How a job ended: ok, ok with warnings, failed, cancelled; "running" while it has no end (or "queued" before its turn). */
export type HistoryResult = "ok" | "warnings" | "failed" | "cancelled" | "running";

/** One job of a VM as kept on disk (/var/lib/cockpit-virtnbdbackup/history/<uuid>/<id>.json). */
export interface HistoryRecord {
    id: string;
    type: HistoryJobType;
    /** Started by the VM's schedule, or by someone (the page, the CLI). */
    kind: "manual" | "scheduled";
    /** ms since the epoch. */
    startedAt: number;
    /** Absent while it runs. */
    endedAt?: number;
    /** Backups: the level made (or asked for, when it failed before choosing). */
    level?: string;
    /** The restore point made (backup), read (restore, verify), or the chains removed (prune). */
    point?: string;
    result: HistoryResult;
    /** Bytes copied (backup, restore), checked (verify) or freed (prune). */
    bytes?: number;
    /** Seconds the work took, without the time waited for a free backup slot. */
    seconds?: number;
    /** Seconds waited for a free backup slot (the host-wide job queue). */
    queuedSeconds?: number;
    warnings: string[];
    error?: string;
}

/** `job-history`: the VM's records, newest first. */
export interface HistoryAnswer {
    records: HistoryRecord[];
}

/** `job-log`: one run's log (capped; `cut` when it was longer). */
export interface JobLogAnswer {
    id: string;
    text: string;
}

/** The host-wide settings (/etc/cockpit-virtnbdbackup/host.json). */
export interface HostSettings {
    /** At most this many backup jobs run at once on the host; more wait their turn ("queued"). */
    maxBackupJobs: number;
}

export interface HostSettingsAnswer extends HostSettings {
    /** True when nothing is stored and maxBackupJobs is the default (from the core count). */
    isDefault: boolean;
}

/** What list-vms adds to each VM for the VM list (jobs/vm-overview.ts). */
export interface VmBackupOverview {
    /** The newest backup run of the history; null when there is none. */
    lastBackup: { at: number; result: HistoryResult; scheduled: boolean; error?: string } | null;
    /** A job of the page running now (a backup or restore; "queued" while it waits for a backup slot). */
    job: { kind: "backup" | "restore"; state: "running" | "queued" } | null;
    /** ms of the next scheduled backup; null when not scheduled. */
    nextRun: number | null;
    /** The newest complete data file's time (ms) and level, in the newest chain; null without one. */
    newestPoint: { date: number; level: string; chain: string } | null;
    /** Bytes of the backup folder's files (and its chains'); null when the folder does not exist. */
    totalSize: number | null;
    /** Why part of this could not be read (settings damaged, history folder refused). */
    problem?: string;
}
