// SPDX-License-Identifier: GPL-3.0-or-later
// Whether systemd runs the host, and the few systemctl / systemd-run calls the helper makes.
import fs from "node:fs";
import { runTool } from "../tools/run-tool.ts";

/**
 * systemd is PID 1 (what sd_booted() checks: systemd creates /run/systemd/system at boot, nothing else
 * does). Not "systemctl exists": Debian ships it on hosts and in containers that run without systemd.
 */
export function systemdRuns(runDir = "/run/systemd/system"): boolean {
    try {
        return fs.lstatSync(runDir).isDirectory();
    } catch {
        return false;
    }
}

export function systemctl(args: string[]): Promise<string> {
    return runTool("systemctl", args);
}
