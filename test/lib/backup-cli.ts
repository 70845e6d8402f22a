// SPDX-License-Identifier: GPL-3.0-or-later
// Runs our built CLIs and the real Python tools (Debian's virtnbdbackup package) the same way, for
// tests that back up with one and restore with the other.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { run, type RunResult } from "./exec.ts";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

/** Our built CLI (npm test builds dist/ first). */
export function ourCli(name: "virtnbdbackup" | "virtnbdrestore" | "virtnbdmap" | "virtnbdprune"): string {
    const file = path.join(root, "dist/helper", `${name}.js`);
    if (!fs.existsSync(file))
        throw new Error(`${file} is missing: run "node build.mjs" first`);
    return file;
}

/** Runs our built helper as the page does (root), whatever its exit code. */
export function runHelper(args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    return run(process.execPath, [path.join(root, "dist/helper/helper.js"), ...args], { timeoutMs: opts.timeoutMs ?? 120_000 });
}

/** Runs our built helper as the page does; asserts it succeeded and returns its JSON answer (the last line). */
export async function helperJson(args: string[]): Promise<Record<string, unknown>> {
    const r = await runHelper(args, { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `helper ${args.join(" ")}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
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
 * that qemu-nbd to end, or a comparison reads a half-flushed qcow2. On a loaded machine it sometimes
 * connects before its own qemu-nbd has made the socket ("Unable to connect nbd server", its own race, seen
 * twice in a row at host load ~4): that attempt's qemu-nbd and files are removed and it runs again, up to
 * PY_RESTORE_ATTEMPTS times in all.
 */
const PY_RESTORE_ATTEMPTS = 4;

export async function pyRestore(args: string[]): Promise<RunResult> {
    const output = args.includes("-o") ? path.resolve(args[args.indexOf("-o") + 1]) : undefined;
    const before = output && fs.existsSync(output) ? new Set(fs.readdirSync(output)) : new Set<string>();
    for (let attempt = 1; ; attempt++) {
        const result = await run(PY_RESTORE, ["--noprogress", ...args], { timeoutMs: 300_000 });
        if (output)
            await waitForQemuNbdOf(output, result.code === 0);
        if (result.code === 0)
            return result;
        if (attempt < PY_RESTORE_ATTEMPTS && /Unable to connect nbd server/.test(result.stderr)) {
            for (const name of output && fs.existsSync(output) ? fs.readdirSync(output) : []) {
                if (!before.has(name))
                    fs.rmSync(path.join(output!, name), { recursive: true, force: true });
            }
            continue;
        }
        throw new Error(`${PY_RESTORE} ${args.join(" ")}: exit ${result.code}\n${result.stderr.trim()}`);
    }
}

/** Waits for the qemu-nbd that serves an image in `dir` to end; after a failed restore it is stopped. */
async function waitForQemuNbdOf(dir: string, finished: boolean): Promise<void> {
    if (!finished)
        await run("pkill", ["-f", `qemu-nbd.*${dir}/`]);
    for (let i = 0; i < 300; i++) {
        const r = await run("pgrep", ["-f", `qemu-nbd.*${dir}/`]);
        if (r.code !== 0)
            break;
        await new Promise(resolve => setTimeout(resolve, 100));
    }
}

/** JSON lines of a --json run, parsed. */
export function events(stdout: string): Record<string, unknown>[] {
    return stdout.split("\n").filter(l => l.trim()).map(l => JSON.parse(l) as Record<string, unknown>);
}

/** Names in a folder, sorted, ignoring logs (their names carry the time). */
export function listFolder(dir: string): string[] {
    return fs.readdirSync(dir).filter(n => !n.endsWith(".log")).sort();
}
