// SPDX-License-Identifier: GPL-3.0-or-later
// Changes of the jobs' state files (/run/cockpit-virtnbdbackup/jobs/<uuid>.json) for `helper watch-vms`: a
// job started, waits for a backup slot, runs, ended, had its pruning added. The VM list follows them (its
// job, last-backup and size columns) from the one watch process it already runs. inotify on the folder:
// nothing is read until a state file is replaced; a change of progress alone is not reported.
import fs from "node:fs";
import path from "node:path";
import { ensureDir, readJsonFile } from "./atomic-file.ts";
import { isUuid, JOBS_DIR } from "./paths.ts";

export interface JobChange {
    domain: string;
    event: "JobChanged";
    state: string;
}

interface StoredJob { id?: string; domain?: string; state?: string; queuedSince?: number; pruned?: unknown }

/** What of a job's state the VM list shows; progress alone changes nothing here. */
function shownKey(job: StoredJob | undefined): string {
    return job ? `${job.id}|${job.state}|${job.queuedSince !== undefined}|${job.pruned !== undefined}` : "";
}

function readJob(file: string): StoredJob | undefined {
    try {
        return readJsonFile(file) as StoredJob | undefined;
    } catch {
        return undefined;  // being replaced, or damaged: the next change tells
    }
}

/** Calls `onChange` whenever what the list shows of a VM's job changes, until `signal` aborts. */
export function watchJobs(onChange: (change: JobChange) => void, signal: AbortSignal, dir = JOBS_DIR): void {
    ensureDir(dir);
    const stateFile = (name: string) => name.endsWith(".json") && isUuid(name.slice(0, -".json".length));
    const shown = new Map<string, string>();
    for (const name of fs.readdirSync(dir).filter(stateFile))
        shown.set(name, shownKey(readJob(path.join(dir, name))));
    const watcher = fs.watch(dir, { persistent: true }, (_type, name) => {
        if (typeof name !== "string" || !stateFile(name))
            return;
        const job = readJob(path.join(dir, name));
        const key = shownKey(job);
        if (key === (shown.get(name) ?? ""))
            return;
        shown.set(name, key);
        if (job?.domain && job.state)
            onChange({ domain: job.domain, event: "JobChanged", state: job.state });
    });
    signal.addEventListener("abort", () => watcher.close(), { once: true });
}
