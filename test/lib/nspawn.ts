// SPDX-License-Identifier: GPL-3.0-or-later
// A real systemd (Debian 12's, 252) for tests, booted in systemd-nspawn from a debootstrapped root file
// system that is built once and cached (systemd-rootfs.sh). The machine itself runs no systemd: this is
// where timers fire, transient units run and the journal keeps their lines. See
// ../shared/docs/real-stack.md ("A real systemd for tests").
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { run, runOk, type RunOptions, type RunResult } from "./exec.ts";
import { processAlive, processArgv } from "../../helper/tools/proc.ts";

export const TEST_CACHE = "/var/cache/cockpit-virtnbdbackup-tests";
/** Bump the number when systemd-rootfs.sh changes what it installs: the next run builds a new one. */
export const ROOTFS = path.join(TEST_CACHE, "systemd-rootfs-2");
const BUILD_SCRIPT = path.join(path.dirname(new URL(import.meta.url).pathname), "systemd-rootfs.sh");

const hasCommand = (cmd: string) => ["/usr/bin", "/usr/sbin", "/bin", "/sbin"].some(d => fs.existsSync(path.join(d, cmd)));

/** Why no container can run here, or null. Checked: root, the tools, and cgroups to put it in. */
export function nspawnUnavailable(): string | null {
    if (process.getuid?.() !== 0)
        return "systemd-nspawn needs root";
    for (const cmd of ["systemd-nspawn", "nsenter", "debootstrap"]) {
        if (!hasCommand(cmd))
            return `${cmd} is not installed (tools/host-packages.sh installs systemd-container and debootstrap)`;
    }
    if (!fs.existsSync("/sys/fs/cgroup/cgroup.controllers") && !fs.existsSync("/sys/fs/cgroup/systemd"))
        return "no cgroup file system to run a systemd in";
    return null;
}

/** The cached root file system; built on first use (about two minutes, from the host's apt mirror). */
export async function systemdRootfs(): Promise<string> {
    if (!fs.existsSync(ROOTFS)) {
        fs.mkdirSync(TEST_CACHE, { recursive: true });
        await runOk("bash", [BUILD_SCRIPT, ROOTFS], { timeoutMs: 900_000 });
    }
    return ROOTFS;
}

export interface ContainerOptions {
    /** Machine name (also its host name). */
    name: string;
    /** Host folders seen at the same path inside, writable. */
    binds?: string[];
    /** Host folders seen at the same path inside, read-only. */
    bindsRo?: string[];
    /** Where nspawn's console output goes. */
    logFile: string;
}

/** A booted container: commands run inside through nsenter into its PID 1's namespaces. */
export class Container {
    private constructor(readonly name: string, readonly nspawnPid: number, readonly pid1: number, readonly logFile: string) {}

    /** Boots an ephemeral copy of `rootfs` (the cache stays untouched) and waits until systemd is up. */
    static async boot(rootfs: string, opts: ContainerOptions): Promise<Container> {
        const log = fs.openSync(opts.logFile, "w");
        const args = ["-D", rootfs, "-b", "--register=no", "--keep-unit", "--ephemeral", "--private-network",
            "--console=pipe", `--machine=${opts.name}`,
            ...(opts.binds ?? []).map(d => `--bind=${d}`), ...(opts.bindsRo ?? []).map(d => `--bind-ro=${d}`)];
        // Its own session: the test runner's signals do not reach it; stop() ends it.
        const child = spawn("systemd-nspawn", args, { detached: true, stdio: ["ignore", log, log] });
        fs.closeSync(log);
        child.unref();
        const nspawnPid = child.pid;
        if (nspawnPid === undefined)
            throw new Error("cannot start systemd-nspawn");
        let pid1: number | undefined;
        for (let i = 0; i < 200 && pid1 === undefined; i++) {
            if (!processAlive(nspawnPid))
                throw new Error(`systemd-nspawn ended at once:\n${fs.readFileSync(opts.logFile, "utf8").slice(-2000)}`);
            const r = await run("pgrep", ["-P", String(nspawnPid), "-x", "systemd"]);
            pid1 = r.code === 0 ? Number(r.stdout.trim().split("\n")[0]) : undefined;
            if (pid1 === undefined)
                await new Promise(resolve => setTimeout(resolve, 100));
        }
        if (pid1 === undefined)
            throw new Error(`no systemd started in the container:\n${fs.readFileSync(opts.logFile, "utf8").slice(-2000)}`);
        const container = new Container(opts.name, nspawnPid, pid1, opts.logFile);
        // The bus comes up a moment after PID 1: retry until systemctl answers, then wait for the boot's end.
        let state = "";
        for (let i = 0; i < 100; i++) {
            const r = await container.exec(["systemctl", "is-system-running", "--wait"], { timeoutMs: 60_000 });
            state = r.stdout.trim();
            if (state === "running" || state === "degraded")
                return container;
            await new Promise(resolve => setTimeout(resolve, 200));
        }
        await container.stop();
        throw new Error(`the container's systemd did not finish booting (${state})`);
    }

    /** Runs argv inside, with a clean environment (the host's, e.g. NODE_EXTRA_CA_CERTS, means nothing there). */
    exec(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
        return run("nsenter", this.inside(argv), opts);
    }

    execOk(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
        return runOk("nsenter", this.inside(argv), opts);
    }

    private inside(argv: string[]): string[] {
        return ["-t", String(this.pid1), "-a", "/usr/bin/env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", ...argv];
    }

    /**
     * Stops the containers of test processes that no longer run (machine name vnbt-<pid>, as the tests name
     * them): SIGTERM makes nspawn shut its container down. Returns the machine names stopped.
     */
    static async stopStale(): Promise<string[]> {
        const stopped: string[] = [];
        for (const entry of fs.readdirSync("/proc").filter(e => /^\d+$/.test(e))) {
            const argv = processArgv(Number(entry));
            const machine = argv && path.basename(argv[0] ?? "") === "systemd-nspawn" ? argv.find(a => a.startsWith("--machine=vnbt-")) : undefined;
            const owner = Number(/^--machine=vnbt-(\d+)$/.exec(machine ?? "")?.[1]);
            if (!machine || !owner || processAlive(owner))
                continue;
            process.kill(Number(entry), "SIGTERM");
            for (let i = 0; i < 300 && processAlive(Number(entry)); i++)
                await new Promise(resolve => setTimeout(resolve, 100));
            const name = machine.slice("--machine=".length);
            fs.rmSync(path.join("/run/systemd/nspawn/propagate", name), { recursive: true, force: true });
            stopped.push(name);
        }
        return stopped;
    }

    /** Shuts systemd down (SIGRTMIN+4: its "poweroff"), waits for nspawn, kills it if it hangs. */
    async stop(): Promise<void> {
        if (processAlive(this.pid1))
            await run("/usr/bin/kill", ["-s", "RTMIN+4", String(this.pid1)]);
        for (let i = 0; i < 300 && processAlive(this.nspawnPid); i++)
            await new Promise(resolve => setTimeout(resolve, 100));
        if (processAlive(this.nspawnPid)) {
            process.kill(this.nspawnPid, "SIGKILL");
            for (let i = 0; i < 50 && processAlive(this.nspawnPid); i++)
                await new Promise(resolve => setTimeout(resolve, 100));
        }
        // nspawn leaves its mount propagation folder behind on hosts without systemd.
        fs.rmSync(path.join("/run/systemd/nspawn/propagate", this.name), { recursive: true, force: true });
    }
}
