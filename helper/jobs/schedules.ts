// SPDX-License-Identifier: GPL-3.0-or-later
// Where automatic backups live: systemd timers where systemd is PID 1, the cron file elsewhere. Every
// schedule write rewrites the one and removes the other, so a host that changed (an upgrade from a
// cron-only version, a container that now boots systemd) ends with exactly one schedule per VM.
import fs from "node:fs";
import { JobLockedError, LOCK_DIR, lockJob } from "../backup/lock.ts";
import { CRON_FILE, schedulerState, storedSchedules, writeCronFile, type ScheduledCommand } from "./cron-file.ts";
import { SETTINGS_DIR } from "./paths.ts";
import { systemctl, systemdRuns } from "./systemd.ts";
import { removeTimerFiles, scheduleUnitFiles, UNIT_DIR, writeTimerUnits, type Systemctl } from "./timer-files.ts";

/** The host as the schedule writer sees it (tests give temporary folders and no systemd). */
export interface ScheduleHost {
    systemd: boolean;
    systemctl: Systemctl;
    cronFile: string;
    unitDir: string;
    settingsDir: string;
    /** Where the writers' lock lives. */
    lockDir: string;
}

export function thisHost(): ScheduleHost {
    return { systemd: systemdRuns(), systemctl, cronFile: CRON_FILE, unitDir: UNIT_DIR, settingsDir: SETTINGS_DIR, lockDir: LOCK_DIR };
}

/** Rewrites the host's schedules (timers or the cron file) from the stored settings, and removes the other kind. */
export async function writeSchedules(program: ScheduledCommand, host = thisHost()): Promise<void> {
    // Two saves at once must not each write what they read before the other's settings file existed: the
    // later writer would drop the other VM's schedule. Readers and writers of all settings take turns.
    const lock = await takeTurn(host.lockDir);
    try {
        await rewrite(program, host);
    } finally {
        lock.release();
    }
}

const TURN_WAIT_MS = 30_000;

async function takeTurn(lockDir: string): Promise<{ release(): void }> {
    for (const end = Date.now() + TURN_WAIT_MS; ;) {
        try {
            return await lockJob("schedules", "the schedules", lockDir);
        } catch (e) {
            if (!(e instanceof JobLockedError) || Date.now() > end)
                throw e;
            await new Promise(resolve => setTimeout(resolve, 50));
        }
    }
}

async function rewrite(program: ScheduledCommand, host: ScheduleHost): Promise<void> {
    if (host.systemd) {
        await writeTimerUnits(storedSchedules(host.settingsDir), program, host.systemctl, host.unitDir);
        fs.rmSync(host.cronFile, { force: true });
    } else {
        writeCronFile(program, host.cronFile, host.settingsDir);
        removeTimerFiles(host.unitDir);
    }
}

/** Whether schedules of the other kind are left (cron lines under systemd, timer files without it). */
export function schedulesToMigrate(host = thisHost()): boolean {
    return host.systemd ? fs.existsSync(host.cronFile) : scheduleUnitFiles(host.unitDir).length > 0;
}

/** Whether the host would run a schedule: systemd always does; cron only when installed and running. */
export function schedulerStatus(host = thisHost()): "running" | "stopped" | "missing" {
    return host.systemd ? "running" : schedulerState(host.cronFile);
}
