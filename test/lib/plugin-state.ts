// SPDX-License-Identifier: GPL-3.0-or-later
// Where the helper keeps a VM's settings and job state (see helper/jobs/paths.ts), for UI tests that
// read them and remove what their VMs left.
import fs from "node:fs";
import path from "node:path";

export const SETTINGS_DIR = "/etc/cockpit-virtnbdbackup/vms";
export const JOBS_DIR = "/run/cockpit-virtnbdbackup/jobs";
export const HISTORY_DIR = "/var/lib/cockpit-virtnbdbackup/history";

/** Removes the settings, job files and job history of these VMs. */
export function removePluginState(uuids: (string | undefined)[]): void {
    for (const uuid of uuids.filter((u): u is string => Boolean(u))) {
        fs.rmSync(path.join(SETTINGS_DIR, `${uuid}.json`), { force: true });
        for (const ext of ["json", "log", "cancel", "start"])
            fs.rmSync(path.join(JOBS_DIR, `${uuid}.${ext}`), { force: true });
        fs.rmSync(path.join(HISTORY_DIR, uuid), { recursive: true, force: true });
    }
}
