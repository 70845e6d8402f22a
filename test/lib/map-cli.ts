// SPDX-License-Identifier: GPL-3.0-or-later
// Our virtnbdmap CLI (or the helper's map-restore-point) run in the background for tests: it answers with
// one JSON line that names each disk's NBD URI, and serves until it is signalled or its stdin closes.
import { spawn, type ChildProcess } from "node:child_process";
import { ourCli } from "./backup-cli.ts";

export interface MappedDiskLine {
    dev: string;
    uri: string;
    socket: string;
    size: number;
    files: string[];
}

export interface RunningMap {
    child: ChildProcess;
    point: string;
    disks: MappedDiskLine[];
    /** The run's directory (the sockets' folder). */
    dir: string;
    /** Sends a signal and waits for the exit; resolves with the exit code (null when killed). */
    stop(signal?: NodeJS.Signals): Promise<number | null>;
    /** Closes its stdin and waits for the exit; resolves with the exit code and what it printed after the first line. */
    closeStdin(): Promise<{ code: number | null; rest: string }>;
}

/** Starts `virtnbdmap --json ARGS`; rejects with its stderr when it exits before serving. */
export function startMap(args: string[]): Promise<RunningMap> {
    return startMapProcess([ourCli("virtnbdmap"), "--json", ...args]);
}

/** Starts `node ARGV` that answers as virtnbdmap --json does. */
export function startMapProcess(argv: string[]): Promise<RunningMap> {
    const args = argv.slice(1);
    const child = spawn(process.execPath, argv, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const exited = new Promise<number | null>(resolve => child.once("close", code => resolve(code)));
    child.stderr!.on("data", (b: Buffer) => { stderr += b.toString(); });
    return new Promise((resolve, reject) => {
        child.stdout!.on("data", (b: Buffer) => {
            stdout += b.toString();
            const line = stdout.split("\n")[0];
            if (!stdout.includes("\n"))
                return;
            const answer = JSON.parse(line) as { event: string; point: string; disks: MappedDiskLine[]; message?: string };
            if (answer.event !== "mapped") {
                void exited.then(() => reject(new Error(`virtnbdmap ${args.join(" ")}: ${answer.message ?? line}: ${stderr.trim()}`)));
                return;
            }
            resolve({
                child, point: answer.point, disks: answer.disks, dir: answer.disks[0].socket.replace(/\/[^/]+$/, ""),
                stop: async (signal: NodeJS.Signals = "SIGTERM") => {
                    child.kill(signal);
                    return exited;
                },
                closeStdin: async () => {
                    child.stdin!.end();
                    const code = await exited;
                    return { code, rest: stdout.slice(stdout.indexOf("\n") + 1) };
                },
            });
        });
        void exited.then(code => reject(new Error(`virtnbdmap ${args.join(" ")} exited (${code}) before serving: ${stderr.trim()}`)));
    });
}
