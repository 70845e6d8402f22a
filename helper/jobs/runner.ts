// The detached process behind one backup job (`helper run-job`): runs the virtnbdbackup CLI with
// --json, turns its events into the VM's state file, and records how it ended. It lives in its own
// session, so closing the Cockpit page (which ends the processes the page spawned) does not stop it.
import { spawn } from "node:child_process";
import fs from "node:fs";
import readline from "node:readline";
import { readJsonFile } from "./atomic-file.ts";
import { applyEvent, finishState, initialState, type CliEvent, type NewJob } from "./job-state.ts";
import { cancelFile, statusFile } from "./paths.ts";
import { StateWriter } from "./state-writer.ts";
import type { JobState } from "./types.ts";

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

/** The state start-backup wrote for this job, or a fresh one (run by hand). */
function startingState(job: RunJobOptions): JobState {
    const stored = readJsonFile(statusFile(job.uuid)) as JobState | undefined;
    if (stored && stored.id === job.id && stored.state === "running")
        return stored;
    return initialState(job, Date.now());
}

/** Runs the job to its end; resolves with the final state (already written). */
export function runJob(job: RunJobOptions): Promise<JobState> {
    const writer = new StateWriter(statusFile(job.uuid), { ...startingState(job), runnerPid: process.pid });
    writer.flush();
    return new Promise(resolve => {
        const finish = (end: Parameters<typeof finishState>[1]) => {
            writer.update(finishState(writer.current, end, Date.now()));
            writer.flush();
            fs.rmSync(cancelFile(job.uuid), { force: true });
            resolve(writer.current);
        };
        const child = spawn(process.execPath, cliArgs(job), { stdio: ["ignore", "pipe", "pipe"], cwd: "/" });
        let stderrTail = "";
        let ended = false;
        child.on("error", err => {
            if (!ended) {
                ended = true;
                finish({ kind: "spawn-error", message: `cannot start the backup: ${err.message}` });
            }
        });
        if (child.pid === undefined)
            return;  // "error" follows
        writer.update({ ...writer.current, pid: child.pid });
        writer.flush();
        // Cancelled before the CLI existed: stop it now.
        if (cancelRequested(job.uuid, job.id))
            child.kill("SIGTERM");
        // A signal to the runner itself (someone stopping it by hand) is a cancellation too.
        for (const sig of ["SIGTERM", "SIGINT"] as const) {
            process.on(sig, () => {
                fs.writeFileSync(cancelFile(job.uuid), job.id);
                child.kill("SIGTERM");
            });
        }
        process.on("SIGHUP", () => {});
        child.stderr.on("data", (b: Buffer) => {
            stderrTail = (stderrTail + b.toString("utf8")).slice(-2000);
        });
        readline.createInterface({ input: child.stdout }).on("line", line => {
            let event: CliEvent;
            try {
                event = JSON.parse(line) as CliEvent;
            } catch {
                return;  // not an event (nothing else is printed with --json)
            }
            if (typeof event === "object" && event !== null && typeof event.event === "string")
                writer.update(applyEvent(writer.current, event, Date.now()));
        });
        // "close": the process has exited and its stdout/stderr are fully read.
        child.on("close", (code, signal) => {
            if (ended)
                return;
            ended = true;
            const lastLine = stderrTail.trim().split("\n").pop()?.replace(/^virtnbdbackup:\s*/, "");
            finish({ kind: "exit", code, signal, cancelRequested: cancelRequested(job.uuid, job.id), stderrTail: lastLine });
        });
    });
}
