// SPDX-License-Identifier: GPL-3.0-or-later
// Facts about the machine the benchmark runs on, and the page-cache drop between runs.
import fs from "node:fs";
import os from "node:os";
import { run } from "../../test/lib/exec.ts";

/**
 * Writes back dirty pages and drops the page cache, so every timed run reads from the disk.
 * Returns false when the kernel does not let us (not root, read-only /proc/sys).
 */
export async function dropCaches(): Promise<boolean> {
    await run("sync", []);
    try {
        fs.writeFileSync("/proc/sys/vm/drop_caches", "3");
        return true;
    } catch {
        return false;
    }
}

/** A short description of the machine and the tool versions, for the report. */
export async function machineInfo(): Promise<Record<string, string>> {
    const firstLine = async (cmd: string, args: string[]) => {
        const r = await run(cmd, args).catch(() => null);
        return r ? (r.stdout || r.stderr).trim().split("\n")[0] ?? "?" : "?";
    };
    return {
        "CPU": `${os.cpus()[0]?.model ?? "?"}, nproc ${os.availableParallelism()}`,
        "Memory": `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
        "Kernel": os.release(),
        "Node": process.version,
        "QEMU": await firstLine("qemu-img", ["--version"]),
        "libnbd": (await firstLine("nbdcopy", ["--version"])),
        "virtnbdbackup (Python)": await firstLine("/usr/bin/virtnbdbackup", ["--version"]),
    };
}

/** 1-minute load average and the other QEMU processes running now (other people's VMs skew timings). */
export function hostLoad(ownVm: string): { load1: number; otherQemus: string[] } {
    const otherQemus: string[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry))
            continue;
        try {
            const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
            if (!cmdline[0]?.endsWith("qemu-system-x86_64"))
                continue;
            const guest = cmdline[cmdline.indexOf("-name") + 1]?.match(/guest=([^,]+)/)?.[1] ?? "?";
            if (guest !== ownVm)
                otherQemus.push(guest);
        } catch {
            // the process ended while we looked
        }
    }
    return { load1: os.loadavg()[0] ?? 0, otherQemus };
}
