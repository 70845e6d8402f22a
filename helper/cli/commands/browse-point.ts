// SPDX-License-Identifier: GPL-3.0-or-later
// `helper browse-point --domain VM --point P [--chain C] [--disk D] [--idle-seconds N]`: maps one disk of a
// restore point (helper/map/map-point.ts) and opens a browse session on it, answering as browse-open does
// plus the point, the disk and the mapping's NBD socket. The session's keeper is the process that made the mapping: nbdkit exits with
// its parent, so the mapping lives exactly as long as the session — browse-close, the idle end and a killed
// keeper (the next helper's sweep closes the session; nbdkit is gone with its parent) end both.
import { spawn } from "node:child_process";
import type { Command } from "commander";
import { checkIdleSeconds, checkOpenArgs } from "../../browse/args.ts";
import { closeSession, handOver, openSession, sweepSessions, type SessionState } from "../../browse/session.ts";
import { mapPoint, type Mapping } from "../../map/map-point.ts";
import { parseChainName, parseDiskName, parsePointName } from "./args.ts";
import { helperPath } from "./backup-job.ts";
import { keep } from "./browse.ts";
import { answer, parseDomainName } from "./domain-arg.ts";
import { resolveRequest } from "./restore-job.ts";

interface PointOpts { domain: string; point: string; chain?: string; disk?: string; idleSeconds?: string }

/** What browse-point answers: the session (as browse-open), the point's data file and the disk browsed. */
interface Opened { session: string; point: string; dev: string; socket: string; volumes: SessionState["volumes"] }

const OPEN_TIMEOUT_MS = 120_000;

function pointOptions(command: Command): Command {
    return command
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .requiredOption("--point <name>", "restore point (as list-restore-points names it)", parsePointName)
        .option("--chain <name>", "its chain (as list-restore-points names it; default: the folder itself)", parseChainName)
        .option("--disk <dev>", "the disk to browse (default: the point's first disk)", parseDiskName)
        .option("--idle-seconds <n>", "close the session after this long without use (default 900)")
        .allowExcessArguments(false);
}

export function addBrowsePointCommands(program: Command): void {
    pointOptions(program
        .command("browse-point")
        .description("map one disk of a restore point and open it for browsing: JSON as browse-open, plus point and dev"))
        .action(async (opts: PointOpts) => {
            checkIdleSeconds(opts.idleSeconds);
            await sweepSessions();
            await findDisk(opts);
            answer(await startKeeper(opts));
        });

    pointOptions(program.command("browse-point-keep", { hidden: true }))
        .action(async (opts: PointOpts) => {
            await keepPoint(opts);
        });
}

/** The point's chain folder, its data file and the disk to browse, or a one-line error. */
async function findDisk(opts: PointOpts): Promise<{ folder: string; until: string; dev: string }> {
    const { folder, point } = await resolveRequest(opts);
    if (!point)
        throw new Error(`${opts.point} is not a complete restore point of ${opts.domain}`);
    const disk = opts.disk === undefined ? point.disks[0] : point.disks.find(d => d.dev === opts.disk);
    if (!disk)
        throw new Error(`restore point ${opts.point} of ${opts.domain} has no disk ${opts.disk}`);
    // A data file of the point stands for it on every disk (as map-restore-point does).
    return { folder, until: point.disks[0]!.file, dev: disk.dev };
}

/** Starts the detached keeper and returns its first line: the opened session, or its error. */
function startKeeper(opts: PointOpts): Promise<Opened> {
    const args = ["browse-point-keep", "--domain", opts.domain, "--point", opts.point,
        ...(opts.chain ? ["--chain", opts.chain] : []), ...(opts.disk ? ["--disk", opts.disk] : []),
        ...(opts.idleSeconds ? ["--idle-seconds", opts.idleSeconds] : [])];
    const keeper = spawn(process.execPath, [helperPath(), ...args], { detached: true, stdio: ["ignore", "pipe", "ignore"], cwd: "/" });
    return new Promise((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => {
            keeper.kill("SIGTERM");
            reject(new Error(`opening ${opts.point} for browsing took longer than ${OPEN_TIMEOUT_MS / 1000} s`));
        }, OPEN_TIMEOUT_MS);
        const done = () => {
            clearTimeout(timer);
            keeper.stdout!.destroy();
            keeper.unref();
        };
        keeper.once("error", e => {
            done();
            reject(new Error(`cannot start the session's keeper: ${e.message}`));
        });
        keeper.stdout!.on("data", (b: Buffer) => {
            out += b.toString("utf8");
            const nl = out.indexOf("\n");
            if (nl < 0)
                return;
            done();
            const line = JSON.parse(out.slice(0, nl)) as Opened | { error: string };
            if ("error" in line)
                reject(new Error(line.error));
            else
                resolve(line);
        });
        keeper.stdout!.once("end", () => {
            if (!out.includes("\n")) {
                done();
                reject(new Error(`the session's keeper ended before opening ${opts.point}`));
            }
        });
    });
}

/** The keeper: maps the disk, opens the session, says so on stdout, keeps it, then ends the mapping. */
async function keepPoint(opts: PointOpts): Promise<void> {
    let mapping: Mapping | undefined;
    let state: SessionState | undefined;
    try {
        const { folder, until, dev } = await findDisk(opts);
        mapping = await mapPoint({ folder, until, disk: dev });
        const open = checkOpenArgs({ socket: mapping.disks[0]!.socket, idleSeconds: opts.idleSeconds });
        state = await openSession(open);
        handOver(state, process.pid);
        const opened: Opened = { session: state.id, point: mapping.point, dev, socket: open.socket, volumes: state.volumes };
        process.stdout.write(JSON.stringify(opened) + "\n");
    } catch (e) {
        if (state)
            await closeSession(state.id).catch(() => undefined);
        await mapping?.stop();
        process.stdout.write(JSON.stringify({ error: (e as Error).message.split("\n")[0] }) + "\n");
        return;
    }
    try {
        await keep(state.id);
    } finally {
        await mapping.stop();
    }
}
