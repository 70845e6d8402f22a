// SPDX-License-Identifier: GPL-3.0-or-later
// Jobs the page waits for (verify, prune, delete a chain) run as transient units too where systemd is
// PID 1: the helper starts itself again as the unit with the page's stdin/stdout/stderr (systemd-run
// --pipe --wait), so the page reads the same answer and progress lines and the same exit status, while
// the work runs in its own unit, not in the Cockpit session. Closing the page stops the unit.
import { spawn } from "node:child_process";
import { jobUnitName, systemdRunArgs, type JobUnit } from "./job-unit.ts";
import { newJobId } from "./start.ts";
import { systemctl, systemdRuns } from "./systemd.ts";

/** Set in the unit's environment: this process is the unit already, the work runs here. */
const IN_UNIT_ENV = "COCKPIT_VIRTNBDBACKUP_UNIT";

/**
 * Where systemd runs and this process is not the job's unit yet: runs this same helper command as one and
 * resolves with its exit status. Undefined: do the work here (no systemd, or this is the unit).
 */
export async function runAsUnit(vm: { uuid: string; domain: string }, kind: JobUnit["kind"]): Promise<number | undefined> {
    if (!systemdRuns() || process.env[IN_UNIT_ENV])
        return undefined;
    const job: JobUnit = { uuid: vm.uuid.toLowerCase(), domain: vm.domain, id: newJobId(), kind };
    const unit = jobUnitName(job);
    const args = ["--pipe", "--wait", `--setenv=${IN_UNIT_ENV}=${unit}`, ...systemdRunArgs(job, [process.execPath, ...process.argv.slice(1)])];
    const child = spawn("systemd-run", args, { stdio: "inherit" });
    // systemd-run ending does not end the unit: a page that goes away stops it.
    const stop = () => { systemctl(["stop", "--no-block", unit]).catch(() => {}) };
    for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const)
        process.on(sig, stop);
    return new Promise((resolve, reject) => {
        child.on("error", err => reject(new Error(`cannot start the ${kind} of ${vm.domain} as the systemd unit ${unit}: ${err.message}`)));
        child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
}
