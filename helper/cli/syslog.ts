// SPDX-License-Identifier: GPL-3.0-or-later
// -L/--syslog: the CLI's messages also go to the host's syslog, through util-linux `logger` (one process
// per priority, fed line by line). Syslog is an extra: when it is unavailable the backup goes on, and
// the user is told once.
import { spawn, type ChildProcess } from "node:child_process";

export type SyslogPriority = "info" | "warning" | "err";

export class Syslog {
    private readonly loggers = new Map<SyslogPriority, ChildProcess>();
    private failed = false;

    constructor(private readonly tag: string, private readonly onUnavailable: (why: string) => void) {}

    write(priority: SyslogPriority, message: string): void {
        if (this.failed)
            return;
        // One line per message: logger logs each input line as one entry.
        this.logger(priority)?.stdin?.write(message.replace(/[\r\n]+/g, " ") + "\n");
    }

    /** Ends the loggers' input and waits until they have handed everything to syslog. */
    async close(): Promise<void> {
        await Promise.all([...this.loggers.values()].map(child => new Promise<void>(resolve => {
            if (child.exitCode !== null || child.signalCode !== null)
                return resolve();
            child.once("close", () => resolve());
            child.stdin?.end();
        })));
    }

    private logger(priority: SyslogPriority): ChildProcess | undefined {
        let child = this.loggers.get(priority);
        if (child)
            return child;
        child = spawn("logger", ["--tag", this.tag, `--id=${process.pid}`, "--priority", `user.${priority}`], {
            stdio: ["pipe", "ignore", "pipe"],
        });
        let stderr = "";
        child.stderr?.on("data", (chunk: Buffer) => { stderr += chunk.toString() });
        const fail = (why: string) => {
            if (!this.failed) {
                this.failed = true;
                this.onUnavailable(why);
            }
        };
        child.on("error", err => fail(err.message));
        child.stdin?.on("error", () => {});
        child.on("close", code => {
            if (code !== 0)
                fail(stderr.trim().split("\n")[0] || `logger exited with ${code}`);
        });
        this.loggers.set(priority, child);
        return child;
    }
}
