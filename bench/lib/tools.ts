// SPDX-License-Identifier: GPL-3.0-or-later
// Command lines of the tools under test — our built CLIs and the real Python ones (always by full
// path: an install of ours may shadow them on PATH) — and the libvirt chores between runs.
import fs from "node:fs";
import path from "node:path";
import { run, runOk } from "../../test/lib/exec.ts";
import { LIBVIRT_URI } from "../../test/lib/libvirtd.ts";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

export const PY_BACKUP = "/usr/bin/virtnbdbackup";
export const PY_RESTORE = "/usr/bin/virtnbdrestore";

/** A command line: program and arguments. */
export interface Cmd {
    cmd: string;
    args: string[];
}

let cliDir = path.join(root, "dist/helper");

/**
 * Copies the built CLIs (dist/helper with its native modules) into `workDir` and uses that copy from now
 * on: others rebuilding dist/ during a long run must not change, or break, the tool being measured.
 */
export async function snapshotOurClis(workDir: string): Promise<void> {
    const copy = path.join(workDir, "helper");
    fs.cpSync(cliDir, copy, { recursive: true });
    // A copy taken while someone rebuilds dist/ may lack the native binding: fail here, not mid-run.
    for (const name of ["virtnbdbackup", "virtnbdrestore", "virtnbdmap"] as const) {
        const r = await run(path.join(copy, `${name}.js`), ["--version"]);
        if (r.code !== 0)
            throw new Error(`${path.join(cliDir, name)}.js does not start (run "node build.mjs --helper"; is dist/ being rebuilt?): ${r.stderr.trim().split("\n").find(l => l.startsWith("Error")) ?? r.stderr.trim().split("\n")[0]}`);
    }
    cliDir = copy;
}

/** Path of one of our built CLIs. */
export function ourCli(name: "virtnbdbackup" | "virtnbdrestore" | "virtnbdmap"): string {
    return path.join(cliDir, `${name}.js`);
}

export type Tool = "ours" | "python";

/**
 * What one side of a timed fragmented run starts, its own program first: run once after a page-cache drop, so
 * that the timed run copies, not reads its programs from the disk (the cold-start and fixed-cost rows judge that).
 */
export function programsOf(side: "floor" | Tool): Cmd[] {
    const own: Cmd[] = side === "floor" ? [{ cmd: "nbdcopy", args: ["--version"] }]
        : side === "ours" ? [{ cmd: ourCli("virtnbdbackup"), args: ["--version"] }, { cmd: "qemu-img", args: ["--version"] }]
        : [{ cmd: PY_BACKUP, args: ["--version"] }];
    return [...own, { cmd: "virsh", args: ["-c", LIBVIRT_URI, "-r", "version"] }];
}

export function backupCmd(tool: Tool, domain: string, level: string, output: string, compress: boolean): Cmd {
    const args = ["-d", domain, "-l", level, "-o", output, "--noprogress", ...(compress ? ["-z"] : [])];
    // Ours as users run it: the file itself (its first line gives node its options).
    return tool === "ours" ? { cmd: ourCli("virtnbdbackup"), args } : { cmd: PY_BACKUP, args };
}

export function restoreCmd(tool: Tool, input: string, output: string): Cmd {
    const args = ["-i", input, "-o", output, "--noprogress"];
    return tool === "ours" ? { cmd: ourCli("virtnbdrestore"), args } : { cmd: PY_RESTORE, args };
}

/**
 * Waits until no qemu-nbd writes into `dir` any more. The Python virtnbdrestore exits while its qemu-nbd
 * may still be flushing the image; the restore is not done before that, so its time includes the wait.
 */
export async function waitForQemuNbdIn(dir: string, timeoutMs = 120_000): Promise<void> {
    const needle = path.resolve(dir);
    const end = Date.now() + timeoutMs;
    while (qemuNbdWriting(needle)) {
        if (Date.now() > end)
            throw new Error(`a qemu-nbd still writes into ${dir} after ${timeoutMs} ms`);
        await new Promise(resolve => setTimeout(resolve, 10));
    }
}

function qemuNbdWriting(dir: string): boolean {
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry))
            continue;
        try {
            const argv = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
            if (path.basename(argv[0] ?? "") === "qemu-nbd" && argv.some(a => a.includes(dir)))
                return true;
        } catch {
            // ended while we looked
        }
    }
    return false;
}

/** Deletes every checkpoint of the domain (bitmaps included), newest first, so the next full starts clean. */
export async function deleteAllCheckpoints(domain: string): Promise<void> {
    const list = await runOk("virsh", ["-c", LIBVIRT_URI, "checkpoint-list", "--domain", domain, "--name", "--topological"]);
    for (const cp of list.stdout.split("\n").filter(l => l.trim() !== "").reverse())
        await runOk("virsh", ["-c", LIBVIRT_URI, "checkpoint-delete", "--domain", domain, "--checkpointname", cp]);
}

/** Ends any backup job of the domain; no job is fine. */
export async function abortAnyJob(domain: string): Promise<void> {
    await run("virsh", ["-c", LIBVIRT_URI, "domjobabort", "--domain", domain]);
}

/** Where both restore tools put a disk: a file named like the source disk's image. */
export function restoredImage(outDir: string, diskFile: string): string {
    return path.join(outDir, path.basename(diskFile));
}
