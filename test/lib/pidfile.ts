// SPDX-License-Identifier: GPL-3.0-or-later
// The pid a daemon wrote into its pid file, when that process still lives.
import fs from "node:fs";
import { processAlive } from "../../helper/tools/proc.ts";

export function livePid(pidfile: string): number | null {
    try {
        const pid = Number(fs.readFileSync(pidfile, "utf8").trim());
        return Number.isSafeInteger(pid) && pid > 0 && processAlive(pid) ? pid : null;
    } catch {
        return null;
    }
}
