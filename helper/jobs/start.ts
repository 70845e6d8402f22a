// SPDX-License-Identifier: GPL-3.0-or-later
// Starting a backup or restore job for the page: refuse a second job of the VM (one job per VM, whatever
// its kind), write the job's first state, and start the runner outside the Cockpit session, then answer at
// once: as its own transient systemd unit where systemd is PID 1 (job-unit.ts), else detached (own
// session, output to a file, not waited for).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { JobLockedError, lockOwner } from "../backup/lock.ts";
import { ensureDir, writeFileAtomic } from "./atomic-file.ts";
import { initialState } from "./job-state.ts";
import { initialRestoreState, type NewRestoreJob } from "./restore-state.ts";
import { currentJob } from "./status.ts";
import { startJobUnit } from "./job-unit.ts";
import { failStartedJob } from "./runner-args.ts";
import { systemdRuns } from "./systemd.ts";
import { JOBS_DIR, cancelFile, runnerLogFile, startLockFile, statusFile } from "./paths.ts";
import { newChainFolder, newestChain } from "./chains.ts";
import type { JobLevel, JobState, RequestedLevel, StartAnswer, VmSettings } from "../protocol/job-types.ts";

export class JobRunningError extends Error {
    override readonly name = "JobRunningError";
}

/** A start lock older than this was left by a helper that died mid-start. */
const STALE_START_MS = 60_000;

export interface StartRequest {
    domain: string;
    uuid: string;
    level: JobLevel;
    settings: VmSettings;
    /** helper.js, started again as `helper.js run-job ...`. */
    helperPath: string;
    /** Started by the VM's schedule, not from the page. */
    scheduled?: boolean;
}

function takeStartLock(uuid: string): () => void {
    const file = startLockFile(uuid);
    for (let attempt = 0; attempt < 2; attempt++) {
        try {
            fs.closeSync(fs.openSync(file, "wx", 0o600));
            return () => fs.rmSync(file, { force: true });
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EEXIST")
                throw err;
        }
        const age = Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0);
        if (age < STALE_START_MS)
            throw new JobRunningError("a job of this virtual machine is being started");
        fs.rmSync(file, { force: true });
    }
    throw new Error(`could not take ${file}`);
}

export function newJobId(): string {
    return `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}

/**
 * Under the VM's start lock: refuses when a job of the VM runs (ours, or an engine run by hand), then
 * writes the new job's first state (which replaces the last job's) and starts `helper.js <args>` as a unit or detached.
 */
function startRunner(uuid: string, domain: string, first: JobState, helperArgs: string[], helperPath: string): StartAnswer {
    ensureDir(JOBS_DIR);
    const release = takeStartLock(uuid);
    try {
        const running = currentJob(uuid);
        if (running?.state === "running") {
            throw new JobRunningError(`a ${running.kind ?? "backup"} of ${domain} is already running (started ${new Date(running.startedAt).toISOString()}); ` +
                "wait for it to end or cancel it");
        }
        // The same refusal the engine would give, before this job's state replaces the last one's.
        const owner = lockOwner(uuid);  // the engine's own lock, held by a live process: a CLI run, a restore
        if (owner !== undefined)
            throw new JobLockedError(domain, owner);

        fs.rmSync(cancelFile(uuid), { force: true });
        writeFileAtomic(statusFile(uuid), JSON.stringify(first) + "\n");

        if (systemdRuns()) {
            try {
                startJobUnit({ uuid: uuid.toLowerCase(), domain, id: first.id, kind: first.kind }, [process.execPath, helperPath, ...helperArgs]);
            } catch (err) {
                failStartedJob(uuid, first.id, (err as Error).message);
                throw err;
            }
            return { id: first.id, statusFile: statusFile(uuid) };
        }
        const log = fs.openSync(runnerLogFile(uuid), "w", 0o600);
        try {
            const child = spawn(process.execPath, [helperPath, ...helperArgs], { detached: true, stdio: ["ignore", log, log], cwd: "/" });
            child.on("error", () => {});  // reported through the state file (job-status sees no runner)
            child.unref();
        } finally {
            fs.closeSync(log);
        }
        return { id: first.id, statusFile: statusFile(uuid) };
    } finally {
        release();
    }
}

/**
 * The chain folder and engine level of a job: "new-chain" is a full into a new chain (the newest chain's
 * folder when it holds no backup yet), every other level goes into the newest chain.
 */
export function chainTarget(vmFolder: string, level: JobLevel): { folder: string; level: RequestedLevel } {
    if (level === "new-chain")
        return { folder: newChainFolder(vmFolder).folder, level: "full" };
    return { folder: newestChain(vmFolder).folder, level };
}

export function startBackupJob(req: StartRequest): StartAnswer {
    const cliPath = path.join(path.dirname(req.helperPath), "virtnbdbackup.js");
    if (!fs.existsSync(cliPath))
        throw new Error(`the backup program ${cliPath} is missing`);
    const id = newJobId();
    const target = chainTarget(req.settings.folder, req.level);
    const job = { id, domain: req.domain, uuid: req.uuid, level: target.level, folder: target.folder, compress: req.settings.compress,
        ...(req.scheduled ? { scheduled: true } : {}) };
    const args = ["run-job", "--id", id, "--domain", req.domain, "--uuid", req.uuid,
        "--level", target.level, "--folder", target.folder, ...(req.settings.compress ? ["--compress"] : []),
        ...(req.scheduled ? ["--scheduled"] : [])];
    return startRunner(req.uuid, req.domain, initialState(job, Date.now()), args, req.helperPath);
}

export interface StartRestoreRequest extends Omit<NewRestoreJob, "id"> {
    /** helper.js, started again as `helper.js run-restore-job ...`. */
    helperPath: string;
}

/** Starts a restore job; the request is validated already (target real path, free name, known point). */
export function startRestoreJob(req: StartRestoreRequest): StartAnswer {
    const cliPath = path.join(path.dirname(req.helperPath), "virtnbdrestore.js");
    if (!fs.existsSync(cliPath))
        throw new Error(`the restore program ${cliPath} is missing`);
    const { helperPath, ...rest } = req;
    const job: NewRestoreJob = { ...rest, id: newJobId() };
    const args = ["run-restore-job", "--id", job.id, "--domain", job.domain, "--uuid", job.uuid, "--folder", job.folder,
        "--point", job.point, "--target", job.target, ...(job.define && job.name !== undefined ? ["--define", "--name", job.name] : [])];
    return startRunner(req.uuid, req.domain, initialRestoreState(job, Date.now()), args, helperPath);
}
