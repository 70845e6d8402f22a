// SPDX-License-Identifier: GPL-3.0-or-later
// A job as its own transient systemd unit (where systemd is PID 1): out of the Cockpit session's cgroup,
// shown by `systemctl status` and Cockpit's Services page while it runs, what it logs in the journal with
// the VM's name and UUID as fields (LogExtraFields= marks every entry of the unit's processes, whatever
// way they log: job-log.ts).
import { execFileSync } from "node:child_process";
import { LOG_IDENTIFIER } from "./job-log.ts";
import { UNIT_PREFIX } from "./timer-units.ts";

export interface JobUnit {
    uuid: string;
    domain: string;
    id: string;
    kind: "backup" | "restore" | "verify" | "prune" | "start-from-backup";
}

/** cockpit-virtnbdbackup-job-<uuid>-<job id>.service: unique per job, and tells whose it is. */
export function jobUnitName(job: JobUnit): string {
    if (!/^[0-9a-z-]+$/.test(job.id) || !/^[0-9a-f-]{36}$/.test(job.uuid))
        throw new Error(`cannot name a unit for job ${job.id} of ${job.uuid}`);
    return `${UNIT_PREFIX}-job-${job.uuid}-${job.id}.service`;
}

/** The systemd-run argv (after "systemd-run") that starts `command` as the job's unit. Pure. */
export function systemdRunArgs(job: JobUnit, command: string[]): string[] {
    // One journal field per property; the value is taken whole (a VM name may hold spaces or "=").
    const fields = { VM_NAME: job.domain, VM_UUID: job.uuid, JOB_ID: job.id, JOB_KIND: job.kind };
    return [
        `--unit=${jobUnitName(job)}`,
        "--collect",  // unloaded when it ends, also after a failure: the state file keeps its result
        "--quiet",
        "--service-type=exec",  // systemd-run returns once the helper has been executed, or fails if it cannot be
        `--description=cockpit-virtnbdbackup: ${job.kind} of ${job.domain}`,
        `--property=SyslogIdentifier=${LOG_IDENTIFIER}`,
        ...Object.entries(fields).map(([k, v]) => `--property=LogExtraFields=${k}=${v}`),
        "--property=WorkingDirectory=/",
        "--",
        ...command,
    ];
}

/** Starts the job's unit; returns when it runs. Throws with systemd-run's own message. */
export function startJobUnit(job: JobUnit, command: string[]): string {
    const unit = jobUnitName(job);
    try {
        execFileSync("systemd-run", systemdRunArgs(job, command), { stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
    } catch (err) {
        const e = err as { stderr?: Buffer; message: string };
        const why = e.stderr?.toString("utf8").trim().split("\n").pop() || e.message;
        throw new Error(`cannot start the ${job.kind} of ${job.domain} as the systemd unit ${unit}: ${why}`);
    }
    return unit;
}
