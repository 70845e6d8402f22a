// Starting a backup job for the page: refuse a second job of the VM, write the job's first state, and
// start the runner detached (own session, output to a file, not waited for), then answer at once.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { JobLockedError, LOCK_DIR } from "../backup/lock.ts";
import { ensureDir, writeFileAtomic } from "./atomic-file.ts";
import { initialState } from "./job-state.ts";
import { currentJob } from "./status.ts";
import { JOBS_DIR, cancelFile, runnerLogFile, startLockFile, statusFile } from "./paths.ts";
import { processAlive } from "../tools/proc.ts";
import type { RequestedLevel, StartAnswer, VmSettings } from "./types.ts";

export class JobRunningError extends Error {
    override readonly name = "JobRunningError";
}

/** A start lock older than this was left by a helper that died mid-start. */
const STALE_START_MS = 60_000;

export interface StartRequest {
    domain: string;
    uuid: string;
    level: RequestedLevel;
    settings: VmSettings;
    /** helper.js, started again as `helper.js run-job ...`. */
    helperPath: string;
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
            throw new JobRunningError("a backup of this virtual machine is being started");
        fs.rmSync(file, { force: true });
    }
    throw new Error(`could not take ${file}`);
}

/** The engine's own lock (/run/lock/virtnbdbackup/<uuid>.lock) held by a live process: a CLI run, a restore. */
function engineLockOwner(uuid: string): number | undefined {
    try {
        const pid = Number.parseInt(fs.readFileSync(path.join(LOCK_DIR, `${uuid}.lock`), "utf8"), 10);
        return Number.isSafeInteger(pid) && pid > 0 && processAlive(pid) ? pid : undefined;
    } catch {
        return undefined;
    }
}

export function startBackupJob(req: StartRequest): StartAnswer {
    const cliPath = path.join(path.dirname(req.helperPath), "virtnbdbackup.js");
    if (!fs.existsSync(cliPath))
        throw new Error(`the backup program ${cliPath} is missing`);
    ensureDir(JOBS_DIR);
    const release = takeStartLock(req.uuid);
    try {
        const running = currentJob(req.uuid);
        if (running?.state === "running")
            throw new JobRunningError(`a backup of ${req.domain} is already running (started ${new Date(running.startedAt).toISOString()})`);
        // The same refusal the engine would give, before this job's state replaces the last one's.
        const owner = engineLockOwner(req.uuid);
        if (owner !== undefined)
            throw new JobLockedError(req.domain, owner);

        const id = `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
        const job = { id, domain: req.domain, uuid: req.uuid, level: req.level, folder: req.settings.folder, compress: req.settings.compress };
        fs.rmSync(cancelFile(req.uuid), { force: true });
        writeFileAtomic(statusFile(req.uuid), JSON.stringify(initialState(job, Date.now())) + "\n");

        const log = fs.openSync(runnerLogFile(req.uuid), "w", 0o600);
        try {
            const args = [req.helperPath, "run-job", "--id", id, "--domain", req.domain, "--uuid", req.uuid,
                "--level", req.level, "--folder", req.settings.folder, ...(req.settings.compress ? ["--compress"] : [])];
            const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", log, log], cwd: "/" });
            child.on("error", () => {});  // reported through the state file (job-status sees no runner)
            child.unref();
        } finally {
            fs.closeSync(log);
        }
        return { id, statusFile: statusFile(req.uuid) };
    } finally {
        release();
    }
}
