// SPDX-License-Identifier: GPL-3.0-or-later
// What a job tells the host's log: its start, the CLI's messages (plan, disks, warnings) and its end.
// Where systemd started the job as a unit, stdout is the journal: a line with a "<N>" priority prefix
// becomes one entry, and the unit's own SyslogIdentifier= and LogExtraFields= (VM_NAME, VM_UUID, JOB_ID,
// set by start.ts) mark every entry. That is the journal's own stream protocol: no helper process per
// message and no native datagram socket (Node has no AF_UNIX SOCK_DGRAM). Elsewhere the messages go to
// syslog through util-linux logger (helper/cli/syslog.ts), the VM named in each message.
import fs from "node:fs";
import { Syslog, type SyslogPriority } from "../cli/syslog.ts";
import type { CliJob } from "./runner.ts";
import type { JobState } from "../protocol/job-types.ts";

/** The journal's SYSLOG_IDENTIFIER of everything the helper's jobs log (`journalctl -t cockpit-virtnbdbackup`). */
export const LOG_IDENTIFIER = "cockpit-virtnbdbackup";

export interface JobLog {
    write(priority: SyslogPriority, message: string): void;
    close(): Promise<void>;
}

/** sd-daemon(3) priority prefixes the journal reads from a unit's stdout. */
const PREFIX: Record<SyslogPriority, string> = { err: "<3>", warning: "<4>", info: "<6>" };

/**
 * Whether this process's stdout is the journal: systemd names the stream it connected in JOURNAL_STREAM
 * ("device:inode"); a stdout redirected since (to a file, a pipe) no longer matches it.
 */
export function stdoutIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
    const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? "");
    if (!m)
        return false;
    try {
        const st = fs.fstatSync(1, { bigint: true });
        return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
    } catch {
        return false;
    }
}

class JournalStreamLog implements JobLog {
    write(priority: SyslogPriority, message: string): void {
        process.stdout.write(`${PREFIX[priority]}${message.replace(/[\r\n]+/g, " ")}\n`);
    }

    async close(): Promise<void> {
        await new Promise<void>(resolve => process.stdout.write("", () => resolve()));
    }
}

class SyslogJobLog implements JobLog {
    private readonly syslog = new Syslog(LOG_IDENTIFIER, () => {});  // syslog is an extra: a job goes on without it

    constructor(private readonly vm: { domain: string; uuid: string }) {}

    write(priority: SyslogPriority, message: string): void {
        this.syslog.write(priority, `${this.vm.domain} (${this.vm.uuid}): ${message}`);
    }

    close(): Promise<void> {
        return this.syslog.close();
    }
}

/** The journal where the job runs as a systemd unit, syslog otherwise. */
export function openJobLog(vm: { domain: string; uuid: string }): JobLog {
    return stdoutIsJournal() ? new JournalStreamLog() : new SyslogJobLog(vm);
}

/** One line into the host's log for a job run in this process (verify, prune). */
export async function logJobLine(vm: { name: string; uuid: string }, priority: SyslogPriority, message: string): Promise<void> {
    const log = openJobLog({ domain: vm.name, uuid: vm.uuid });
    log.write(priority, message);
    await log.close();
}

/** The log line of one CLI event of a backup or restore (none for progress). Pure. */
export function eventLine(kind: "backup" | "restore", e: { event: string } & Record<string, unknown>): { priority: SyslogPriority; message: string } | null {
    const text = (v: unknown) => String(v ?? "");
    switch (e.event) {
    case "warning": return { priority: "warning", message: text(e.message) };
    case "info": return { priority: "info", message: text(e.message) };
    case "error": return { priority: "err", message: text(e.message) };
    case "plan":
        if (kind === "backup") {
            const disks = (e.disks as { dev: string }[]).map(d => d.dev).join(", ");
            return { priority: "info", message: `${text(e.level)} backup of ${text(e.domain)}: ${disks}${e.parent ? ` since ${text(e.parent)}` : ""}` };
        }
        return { priority: "info", message: `restoring ${(e.disks as { disk: string }[]).map(d => d.disk).join(", ")}` };
    case "disk-done": return { priority: "info", message: `${text(e.dev)}: ${text(e.bytes)} bytes saved in ${text(e.file)}` };
    case "disk": return kind === "restore" ? { priority: "info", message: `${text(e.disk)}: ${text(e.bytes)} bytes restored into ${text(e.output)}` } : null;
    default: return null;
    }
}

/** How a job ended, as one log line. Pure. */
export function endLine(state: JobState): { priority: SyslogPriority; message: string } {
    const what = `${state.kind} ${state.id} of ${state.domain}`;
    if (state.state === "succeeded")
        return { priority: state.warnings.length ? "warning" : "info", message: `${what} succeeded${state.warnings.length ? ` with ${state.warnings.length} warning(s)` : ""}` };
    if (state.state === "cancelled")
        return { priority: "warning", message: `${what} cancelled` };
    return { priority: "err", message: `${what} failed${state.message ? `: ${state.message}` : ""}` };
}

/** The job with its start, events and end also written to `log`. */
export function loggedJob<S extends JobState, E extends { event: string }>(job: CliJob<S, E>, log: JobLog): CliJob<S, E> {
    const kind = job.initial.kind === "restore" ? "restore" : "backup";
    log.write("info", `${kind} ${job.id} of ${job.initial.domain} started${"scheduled" in job.initial && job.initial.scheduled ? " by its schedule" : ""}`);
    return {
        ...job,
        apply(state, event, now) {
            const line = eventLine(kind, event as { event: string } & Record<string, unknown>);
            if (line)
                log.write(line.priority, line.message);
            return job.apply(state, event, now);
        },
        finish(state, end, now) {
            const final = job.finish(state, end, now);
            const line = endLine(final);
            log.write(line.priority, line.message);
            return final;
        },
    };
}
