// SPDX-License-Identifier: GPL-3.0-or-later
// A syslog daemon for tests of -L/--syslog: rsyslogd started when nothing listens on /dev/log yet, stopped
// later only if this call started it. There is no systemd here: rsyslogd forks on its own.
import fs from "node:fs";
import { runOk } from "./exec.ts";
import { processAlive } from "../../helper/tools/proc.ts";
import { livePid } from "./pidfile.ts";

const PIDFILE = "/run/rsyslogd.pid";
/** Where Debian's rsyslog.conf writes every facility's messages. */
export const SYSLOG_FILE = "/var/log/syslog";

const runningPid = () => livePid(PIDFILE);

/**
 * Makes sure a syslog daemon listens on /dev/log; resolves with `ours` (rsyslogd started here, whose file
 * SYSLOG_FILE the test can read) and a function that stops it again if this call started it.
 */
export async function ensureSyslog(): Promise<{ ours: boolean; stop: () => Promise<void> }> {
    if (fs.existsSync("/dev/log"))
        return { ours: runningPid() !== null, stop: async () => {} };
    await runOk("/usr/sbin/rsyslogd", []);
    for (let i = 0; i < 100 && !(runningPid() !== null && fs.existsSync("/dev/log")); i++)
        await new Promise(resolve => setTimeout(resolve, 50));
    const pid = runningPid();
    if (pid === null || !fs.existsSync("/dev/log"))
        throw new Error("rsyslogd did not start (no live pid in /run/rsyslogd.pid, or no /dev/log)");
    return {
        ours: true,
        stop: async () => {
            process.kill(pid, "SIGTERM");
            for (let i = 0; i < 100 && processAlive(pid); i++)
                await new Promise(resolve => setTimeout(resolve, 50));
        },
    };
}
