// SPDX-License-Identifier: GPL-3.0-or-later
// Where the helper keeps per-VM settings (persistent) and job state (until reboot), by domain UUID.
import path from "node:path";

export const SETTINGS_DIR = "/etc/cockpit-virtnbdbackup/vms";
export const JOBS_DIR = "/run/cockpit-virtnbdbackup/jobs";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A domain UUID as libvirt prints it (any case). */
export function isUuid(value: string): boolean {
    return UUID_RE.test(value);
}

export function checkUuid(uuid: string): string {
    if (!isUuid(uuid))
        throw new Error(`invalid domain UUID ${JSON.stringify(uuid)}`);
    return uuid.toLowerCase();
}

export function settingsFile(uuid: string): string {
    return path.join(SETTINGS_DIR, `${checkUuid(uuid)}.json`);
}

/** The state file the runner keeps and the page watches. */
export function statusFile(uuid: string): string {
    return path.join(JOBS_DIR, `${checkUuid(uuid)}.json`);
}

/** Written by cancel-job with the job id: tells the runner that the job's end is a cancellation. */
export function cancelFile(uuid: string): string {
    return path.join(JOBS_DIR, `${checkUuid(uuid)}.cancel`);
}

/** Held by start-backup while it checks for a running job and writes the new job's first state. */
export function startLockFile(uuid: string): string {
    return path.join(JOBS_DIR, `${checkUuid(uuid)}.start`);
}

/** stdout/stderr of the runner (normally empty: the engine logs into the backup folder). */
export function runnerLogFile(uuid: string): string {
    return path.join(JOBS_DIR, `${checkUuid(uuid)}.log`);
}
