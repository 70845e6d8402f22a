// SPDX-License-Identifier: GPL-3.0-or-later
// The host-wide settings: how many backup jobs may run at once (the job queue, jobs/job-slots.ts). Stored
// as JSON beside the VMs' settings; the default follows the host's core count.
import os from "node:os";
import path from "node:path";
import { readJsonFile, writeFileAtomic } from "./atomic-file.ts";
import { SETTINGS_DIR } from "./paths.ts";
import { SettingsError } from "./settings.ts";
import { checkMaxBackupJobs, describeMaxBackupJobsProblem } from "../protocol/queue-rules.ts";
import type { HostSettings, HostSettingsAnswer } from "../protocol/job-types.ts";

export const HOST_SETTINGS_FILE = path.join(path.dirname(SETTINGS_DIR), "host.json");

/**
 * Twice the cores, at least 2, at most 8. A backup job keeps a core busy only part of its time: measured on a
 * 2-core host (bench --queue, bench/results/queue-latest.md), a 640 MiB full copies its data in about 1 s of a
 * 3 to 4 s job, the rest being start-up and libvirt/QEMU round trips that overlap well with other jobs'. There,
 * 6 backups all at once finished soonest, 4 at once next, 2 and 1 last; so a small N only delays jobs. The cap
 * of 8 is for big hosts whose backups share a few disks or one network share (not measured here).
 */
export function defaultMaxBackupJobs(cores = os.availableParallelism()): number {
    return Math.max(2, Math.min(8, cores * 2));
}

/** "at most N backup jobs at once": a whole number from 1 to 64 (a string from the command line, or stored). */
export function parseMaxBackupJobs(value: unknown, where: string): number {
    const checked = checkMaxBackupJobs(value);
    if ("problem" in checked)
        throw new SettingsError(`${where}: ${describeMaxBackupJobsProblem(checked.problem, value)}`);
    return checked.max;
}

/** The stored settings, or the defaults; a damaged file gives the defaults (the queue must not stop every backup). */
export function readHostSettings(file = HOST_SETTINGS_FILE): HostSettingsAnswer {
    try {
        const stored = readJsonFile(file) as { maxBackupJobs?: unknown } | undefined;
        if (stored?.maxBackupJobs !== undefined)
            return { maxBackupJobs: parseMaxBackupJobs(stored.maxBackupJobs, file), isDefault: false };
    } catch {
        // defaults below
    }
    return { maxBackupJobs: defaultMaxBackupJobs(), isDefault: true };
}

export function writeHostSettings(settings: HostSettings, file = HOST_SETTINGS_FILE): void {
    writeFileAtomic(file, JSON.stringify({ maxBackupJobs: parseMaxBackupJobs(settings.maxBackupJobs, "maxBackupJobs") }) + "\n");
}
