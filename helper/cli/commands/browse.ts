// SPDX-License-Identifier: GPL-3.0-or-later
// The browse commands: a guest disk served over NBD (a restore point mapped to a unix socket) opened as a
// session whose file systems are mounted read-only, then listed, read, downloaded as tar or copied to a host
// folder, and closed. Each command first closes the sessions a killed helper or keeper left behind.
//   browse-open --socket S [--export NAME] [--idle-seconds N]   -> JSON: session id, volumes
//   browse-list --session ID --volume V --path P                -> JSON: entries
//   browse-read --session ID --volume V --path P                -> the file's bytes on stdout
//   browse-tar --session ID --volume V --path P                 -> a tar archive on stdout
//   browse-restore --session ID --volume V --path P --to DIR    -> JSON: what was written
//   browse-close --session ID
//   browse-hold --session ID      (the page: holds the session open while it runs, closes it when ended)
//   browse-keep --session ID      (hidden: the detached keeper that ends an idle session)
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { checkOpenArgs, checkPathArgs, checkRestoreArgs, checkSessionArg } from "../../browse/args.ts";
import { tarTo, restoreToHost } from "../../browse/copy-out.ts";
import { listGuestFolder, openGuestFile, resolveGuestPath } from "../../browse/guest-path.ts";
import { closeSession, handOver, idleMs, openSession, readSession, refuseOtherNamespace, sweepSessions, touchSession, volumeRoot } from "../../browse/session.ts";
import { answer } from "./domain-arg.ts";
import { helperPath } from "./backup-job.ts";

/** While a command streams, the session counts as used. */
async function inUse<T>(session: string, fn: () => Promise<T>): Promise<T> {
    readSession(session);
    touchSession(session);
    const touch = () => {
        try {
            touchSession(session);
        } catch {
            // closed meanwhile: what it was streaming fails on its own
        }
    };
    const timer = setInterval(touch, 5_000);
    try {
        return await fn();
    } finally {
        clearInterval(timer);
        touch();
    }
}

function resolveArgs(opts: { session: string; volume: string; path: string }, followLast: boolean) {
    const state = readSession(opts.session);
    const root = volumeRoot(state, opts.volume);
    return { root, resolved: resolveGuestPath(root, opts.path, followLast) };
}

export function addBrowseCommands(program: Command): void {
    program
        .command("browse-open")
        .description("open a guest disk served over NBD for browsing: its file systems mounted read-only")
        .requiredOption("--socket <path>", "NBD unix socket serving the disk")
        .option("--export <name>", "NBD export name (default: the server's default export)")
        .option("--idle-seconds <n>", "close the session after this long without use (default 900)")
        .allowExcessArguments(false)
        .action(async (raw: { socket: string; export?: string; idleSeconds?: string }) => {
            const opts = checkOpenArgs(raw);
            await sweepSessions();
            const state = await openSession(opts);
            try {
                const keeper = spawn(process.execPath, [helperPath(), "browse-keep", "--session", state.id],
                    { detached: true, stdio: "ignore", cwd: "/" });
                keeper.unref();
                if (!keeper.pid)
                    throw new Error("cannot start the session's keeper");
                handOver(state, keeper.pid);
            } catch (e) {
                await closeSession(state.id);
                throw e;
            }
            answer({ session: state.id, volumes: state.volumes });
        });

    program
        .command("browse-list")
        .description("list a folder of a browsed file system (symlinks are shown, not followed): JSON")
        .requiredOption("--session <id>", "browse session")
        .requiredOption("--volume <id>", "volume (disk, p1, p2, ...)")
        .requiredOption("--path <path>", "guest folder, e.g. /etc")
        .allowExcessArguments(false)
        .action(async (raw: { session: string; volume: string; path: string }) => {
            const opts = checkPathArgs(raw);
            await sweepSessions();
            await inUse(opts.session, async () => {
                const { resolved } = resolveArgs(opts, true);
                answer({ path: resolved.guest, entries: listGuestFolder(resolved) });
            });
        });

    program
        .command("browse-read")
        .description("write a file of a browsed file system to stdout")
        .requiredOption("--session <id>", "browse session")
        .requiredOption("--volume <id>", "volume (disk, p1, p2, ...)")
        .requiredOption("--path <path>", "guest file")
        .allowExcessArguments(false)
        .action(async (raw: { session: string; volume: string; path: string }) => {
            const opts = checkPathArgs(raw);
            await sweepSessions();
            await inUse(opts.session, async () => {
                const fd = openGuestFile(resolveArgs(opts, true).resolved);
                await pipeline(fs.createReadStream("", { fd }), process.stdout);
            });
        });

    program
        .command("browse-tar")
        .description("write a file or folder of a browsed file system to stdout as a tar archive")
        .requiredOption("--session <id>", "browse session")
        .requiredOption("--volume <id>", "volume (disk, p1, p2, ...)")
        .requiredOption("--path <path>", "guest file or folder")
        .allowExcessArguments(false)
        .action(async (raw: { session: string; volume: string; path: string }) => {
            const opts = checkPathArgs(raw);
            await sweepSessions();
            await inUse(opts.session, async () => {
                const { root, resolved } = resolveArgs(opts, true);
                await tarTo(resolved, root, process.stdout);
            });
        });

    program
        .command("browse-restore")
        .description("copy a file or folder of a browsed file system into a host folder (root's, files 0600): JSON")
        .requiredOption("--session <id>", "browse session")
        .requiredOption("--volume <id>", "volume (disk, p1, p2, ...)")
        .requiredOption("--path <path>", "guest file or folder")
        .requiredOption("--to <folder>", "host folder to copy it into (made when missing)")
        .allowExcessArguments(false)
        .action(async (raw: { session: string; volume: string; path: string; to: string }) => {
            const opts = checkRestoreArgs(raw);
            await sweepSessions();
            await inUse(opts.session, async () => {
                const { resolved } = resolveArgs(opts, true);
                const name = resolved.guest === "/" ? opts.volume : path.basename(resolved.guest);
                answer(restoreToHost(resolved, name, opts.to));
            });
        });

    program
        .command("browse-close")
        .description("close a browse session: unmount, detach and stop all of it")
        .requiredOption("--session <id>", "browse session")
        .allowExcessArguments(false)
        .action(async (raw: { session: string }) => {
            const { session } = checkSessionArg(raw);
            await sweepSessions();
            refuseOtherNamespace(readSession(session));
            await closeSession(session);
            answer({ closed: session });
        });

    program
        .command("browse-hold")
        .description("keep a browse session in use while this runs; close it when stdin closes or at SIGTERM/SIGHUP (the page going away)")
        .requiredOption("--session <id>", "browse session")
        .allowExcessArguments(false)
        .action(async (raw: { session: string }) => {
            const { session } = checkSessionArg(raw);
            await sweepSessions();
            await inUse(session, () => untilReleased(session));
            if (idleMs(session) !== null)
                await closeSession(session);
        });

    program
        .command("browse-keep", { hidden: true })
        .requiredOption("--session <id>", "browse session")
        .allowExcessArguments(false)
        .action(async (raw: { session: string }) => {
            const { session } = checkSessionArg(raw);
            await keep(session);
        });
}

/** The keeper: ends the session after its idle time without use, or at SIGTERM/SIGHUP; exits when it is gone. */
export async function keep(session: string): Promise<void> {
    const idleLimit = readSession(session).idleSeconds * 1000;
    let stop = false;
    const onSignal = () => { stop = true; };
    process.on("SIGTERM", onSignal);
    process.on("SIGHUP", onSignal);
    process.on("SIGINT", onSignal);
    for (;;) {
        const idle = idleMs(session);
        if (idle === null)
            return;  // closed by browse-close
        if (stop || idle >= idleLimit)
            break;
        await new Promise(resolve => setTimeout(resolve, Math.min(1000, idleLimit - idle)));
    }
    await closeSession(session);
}

/** Resolves when the holder is let go (stdin closed, SIGTERM, SIGHUP, SIGINT) or the session is gone. */
function untilReleased(session: string): Promise<void> {
    return new Promise(resolve => {
        const timer = setInterval(() => {
            if (idleMs(session) === null)
                done();
        }, 1000);
        const done = () => {
            clearInterval(timer);
            resolve();
        };
        for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
            process.once(sig, done);
        process.stdin.once("end", done);
        process.stdin.once("error", done);
        process.stdin.resume();
    });
}
