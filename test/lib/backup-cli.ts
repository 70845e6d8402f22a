// Runs our built CLIs and the real Python tools (Debian's virtnbdbackup package) the same way, for
// tests that back up with one and restore with the other.
import fs from "node:fs";
import path from "node:path";
import { run, runOk, type RunResult } from "./exec.ts";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

/** Our built CLI (npm test builds dist/ first). */
export function ourCli(name: "virtnbdbackup" | "virtnbdrestore"): string {
    const file = path.join(root, "dist/helper", `${name}.js`);
    if (!fs.existsSync(file))
        throw new Error(`${file} is missing: run "node build.mjs" first`);
    return file;
}

/** The Python tool, by full path: a `make install` of ours may shadow it on PATH. */
export const PY_BACKUP = "/usr/bin/virtnbdbackup";
export const PY_RESTORE = "/usr/bin/virtnbdrestore";

export function ourBackup(args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    return run(process.execPath, [ourCli("virtnbdbackup"), "--noprogress", ...args], { timeoutMs: opts.timeoutMs ?? 300_000 });
}

export async function ourBackupOk(args: string[]): Promise<RunResult> {
    const r = await ourBackup(args);
    if (r.code !== 0)
        throw new Error(`virtnbdbackup ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
    return r;
}

export function ourRestore(args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    return run(process.execPath, [ourCli("virtnbdrestore"), "--noprogress", ...args], { timeoutMs: opts.timeoutMs ?? 300_000 });
}

export async function ourRestoreOk(args: string[]): Promise<RunResult> {
    const r = await ourRestore(args);
    if (r.code !== 0)
        throw new Error(`virtnbdrestore ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
    return r;
}

/**
 * The real virtnbdrestore. It returns while its qemu-nbd may still be writing the image out; wait for
 * that qemu-nbd to end, or a comparison reads a half-flushed qcow2.
 */
export async function pyRestore(args: string[]): Promise<RunResult> {
    const result = await runOk(PY_RESTORE, ["--noprogress", ...args], { timeoutMs: 300_000 });
    const output = args[args.indexOf("-o") + 1];
    if (args.includes("-o") && output) {
        const absolute = path.resolve(output);
        for (let i = 0; i < 300; i++) {
            const r = await run("pgrep", ["-f", `qemu-nbd.*${absolute}`]);
            if (r.code !== 0)
                break;
            await new Promise(resolve => setTimeout(resolve, 100));
        }
    }
    return result;
}

/** JSON lines of a --json run, parsed. */
export function events(stdout: string): Record<string, unknown>[] {
    return stdout.split("\n").filter(l => l.trim()).map(l => JSON.parse(l) as Record<string, unknown>);
}

/** Names in a folder, sorted, ignoring logs (their names carry the time). */
export function listFolder(dir: string): string[] {
    return fs.readdirSync(dir).filter(n => !n.endsWith(".log")).sort();
}
