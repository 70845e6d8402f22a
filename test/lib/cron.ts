// SPDX-License-Identifier: GPL-3.0-or-later
// Starts the host's cron daemon for tests that need scheduled backups to run, when it does not run yet,
// and stops it later only if this call started it. There is no systemd here: cron forks on its own.
import { runOk } from "./exec.ts";
import { processAlive } from "../../helper/tools/proc.ts";
import { livePid } from "./pidfile.ts";

const PIDFILE = "/run/crond.pid";

const runningPid = () => livePid(PIDFILE);

/** Makes sure cron runs; resolves with a function that stops it again if this call started it. */
export async function ensureCron(): Promise<() => Promise<void>> {
    if (runningPid() !== null)
        return async () => {};
    await runOk("/usr/sbin/cron", []);
    for (let i = 0; i < 100 && runningPid() === null; i++)
        await new Promise(resolve => setTimeout(resolve, 50));
    const pid = runningPid();
    if (pid === null)
        throw new Error("cron did not start (no live pid in /run/crond.pid)");
    return async () => {
        process.kill(pid, "SIGTERM");
        for (let i = 0; i < 100 && processAlive(pid); i++)
            await new Promise(resolve => setTimeout(resolve, 50));
    };
}
