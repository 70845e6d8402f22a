// SPDX-License-Identifier: GPL-3.0-or-later
// The detached process behind one job (`helper run-job` / `helper run-restore-job`): runs our backup or
// restore CLI with --json, turns its events into the VM's state file, and records how it ended. It lives
// in its own session, so closing the Cockpit page (which ends the processes the page spawned) does not
// stop it.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import readline from "node:readline";
import { readJsonFile } from "./atomic-file.ts";
import { applyEvent, finishState, initialState, type CliEvent, type JobEnd, type NewJob } from "./job-state.ts";
import { cancelFile, statusFile } from "./paths.ts";
import { loggedJob, type JobLog } from "./job-log.ts";
import { StateWriter } from "./state-writer.ts";
import { readHostSettings } from "./host-settings.ts";
import { JobHistory } from "./job-history.ts";
import { waitForSlot, type Slot } from "./job-slots.ts";
import type { BackupJobState, JobState } from "../protocol/job-types.ts";
import { pidNamespace } from "../tools/proc.ts";
import { cliEnvironment } from "./cli-env.ts";

export interface RunJobOptions extends NewJob {
    /** The built virtnbdbackup.js beside helper.js. */
    cliPath: string;
}

/** The argv (after node) of the CLI run for a job. */
export function cliArgs(job: RunJobOptions): string[] {
    return [job.cliPath, "--json", "-d", job.domain, "-l", job.level, "-o", job.folder, ...(job.compress ? ["-z"] : [])];
}

/** Whether cancel-job asked to cancel this job. */
export function cancelRequested(uuid: string, id: string): boolean {
    try {
        return fs.readFileSync(cancelFile(uuid), "utf8").trim() === id;
    } catch {
        return false;
    }
}

/** The state the job's start wrote for it, or `fresh` (run by hand). */
export function startingState<S extends JobState>(uuid: string, id: string, fresh: S): S {
    const stored = readJsonFile(statusFile(uuid)) as S | undefined;
    if (stored && stored.id === id && stored.kind === fresh.kind && stored.state === "running")
        return stored;
    return fresh;
}

/** One CLI run behind a job: how to start it and how its events change the job's state. */
export interface CliJob<S extends JobState, E extends { event: string }> {
    uuid: string;
    id: string;
    initial: S;
    /** argv after node: the CLI's .js file first. */
    argv: string[];
    /** The CLI's name as it prefixes its stderr line. */
    name: string;
    apply(state: S, event: E, now: number): S;
    finish(state: S, end: JobEnd, now: number): S;
    /** Waits for a slot of the host-wide job queue first (backups). */
    queued?: boolean;
    /** Node options of the CLI (helper/cli/node-options.json), through NODE_OPTIONS: argv stays `node <cli.js> ...`. */
    nodeOptions?: string;
}

/** Runs the CLI to its end; resolves with the final state (already written). */
export function runCliJob<S extends JobState, E extends { event: string }>(job: CliJob<S, E>): Promise<S> {
    const writer = new StateWriter<S>(statusFile(job.uuid), { ...job.initial, runnerPid: process.pid, runnerPidNs: pidNamespace() ?? undefined });
    writer.flush();
    const history = JobHistory.start(job.uuid, writer.current);
    return new Promise(resolve => {
        let child: ChildProcess | undefined;
        let slot: Slot | null = null;
        let ended = false;
        const finish = (end: JobEnd) => {
            if (ended)
                return;
            ended = true;
            const final = job.finish(writer.current, end, Date.now());
            // The history first: whoever sees the state file say "ended" (the VM list's watch) finds the record ended too.
            history?.end(final, Date.now());
            writer.update(final);
            writer.flush();
            slot?.release();
            fs.rmSync(cancelFile(job.uuid), { force: true });
            resolve(writer.current);
        };
        // A signal to the runner itself (someone stopping it by hand) is a cancellation too.
        for (const sig of ["SIGTERM", "SIGINT"] as const) {
            process.on(sig, () => {
                fs.writeFileSync(cancelFile(job.uuid), job.id);
                child?.kill("SIGTERM");
            });
        }
        process.on("SIGHUP", () => {});
        const start = () => {
            history?.running(Date.now());
            child = spawn(process.execPath, job.argv, { stdio: ["ignore", "pipe", "pipe"], cwd: "/", env: cliEnvironment(process.env, job.nodeOptions) });
            followCli(job, child, writer, history, finish);
        };
        if (!job.queued) {
            start();
            return;
        }
        // The host-wide queue: wait for one of the N backup slots (cancellable), then run.
        waitForSlot({
            max: () => readHostSettings().maxBackupJobs,
            cancelled: () => cancelRequested(job.uuid, job.id),
            onQueued: () => {
                writer.update({ ...writer.current, queuedSince: Date.now() });
                writer.flush();
                history?.queued(Date.now());
            },
        }).then(taken => {
            if (!taken) {
                finish({ kind: "exit", code: null, signal: null, cancelRequested: true });
                return;
            }
            slot = taken;
            const { queuedSince: _waited, ...running } = writer.current;
            writer.update(running as S);
            writer.flush();
            start();
        }, (err: unknown) => finish({ kind: "spawn-error", message: `cannot take a backup slot: ${err instanceof Error ? err.message : String(err)}` }));
    });
}

/** Follows the started CLI: its pid, its events and stderr into the state (and history), its end. */
function followCli<S extends JobState, E extends { event: string }>(job: CliJob<S, E>, child: ChildProcess, writer: StateWriter<S>,
                                                                       history: JobHistory | undefined, finish: (end: JobEnd) => void): void {
    let stderrTail = "";
    let ended = false;
    child.on("error", err => {
        if (!ended) {
            ended = true;
            finish({ kind: "spawn-error", message: `cannot start ${job.name}: ${err.message}` });
        }
    });
    if (child.pid === undefined)
        return;  // "error" follows
    writer.update({ ...writer.current, pid: child.pid });
    writer.flush();
    // Cancelled before the CLI existed: stop it now.
    if (cancelRequested(job.uuid, job.id))
        child.kill("SIGTERM");
    child.stderr!.on("data", (b: Buffer) => {
        stderrTail = (stderrTail + b.toString("utf8")).slice(-2000);
    });
    readline.createInterface({ input: child.stderr! }).on("line", line => history?.line(line, Date.now()));
    readline.createInterface({ input: child.stdout! }).on("line", line => {
        let event: E;
        try {
            event = JSON.parse(line) as E;
        } catch {
            return;  // not an event (nothing else is printed with --json)
        }
        if (typeof event === "object" && event !== null && typeof event.event === "string") {
            writer.update(job.apply(writer.current, event, Date.now()));
            history?.event(event as unknown as { event: string }, Date.now());
        }
    });
    // "close": the process has exited and its stdout/stderr are fully read.
    child.on("close", (code, signal) => {
        if (ended)
            return;
        ended = true;
        const lastLine = stderrTail.trim().split("\n").pop()?.replace(new RegExp(`^${job.name}:\\s*`), "");
        finish({ kind: "exit", code, signal, cancelRequested: cancelRequested(job.uuid, job.id), stderrTail: lastLine });
    });
}

/** Runs a backup job to its end, telling `log` how it goes; resolves with the final state (already written). */
export function runJob(job: RunJobOptions, log: JobLog): Promise<BackupJobState> {
    return runCliJob<BackupJobState, CliEvent>(loggedJob({
        uuid: job.uuid,
        id: job.id,
        initial: startingState(job.uuid, job.id, initialState(job, Date.now())),
        argv: cliArgs(job),
        name: "virtnbdbackup",
        apply: applyEvent,
        finish: finishState,
        queued: true,
    }, log));
}
