// SPDX-License-Identifier: GPL-3.0-or-later
// Start from backup (helper/instant): `start-from-backup` starts a detached holder process
// (`run-instant-vm`) that maps the point, makes the overlays, defines and starts the new VM and then
// keeps the mapping until it is told to stop; it answers once the VM runs (or with the holder's one-line
// error, nothing left behind). `discard-instant-vm` removes the VM, its overlays and the mapping;
// `move-instant-vm` copies its disks while it runs (progress lines, then the copies; a signal before the pivot
// undoes it); `list-instant-vms` lists the records the page shows (all, or those of one VM's backups). Every
// start first removes what killed holders left; a move, discard or listing first undoes what a killed move left.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { removeStaleMaps } from "../../map/map-dirs.ts";
import { createFresh } from "../../fs/safe-open.ts";
import { holderAlive, holderLogFile, listRecords, moverAlive, readRecord, recordFile, refuseOtherNamespace, removeRecord, writeRecord, type InstantRecord } from "../../instant/instant-record.ts";
import { moveInstantVm, removeInstantVm, removeStaleInstantVms, settleDeadMove, startInstantVm, vmExists } from "../../instant/instant-vm.ts";
import { resolveHostFolder } from "../../fs/host-folder.ts";
import { checkInstantFolder, type InstantMoveProgress, type InstantVmSummary } from "../../protocol/instant-rules.ts";
import { describeTargetProblem, within } from "../../protocol/restore-rules.ts";
import { readSettings } from "../../jobs/settings.ts";
import { virshBatch } from "../../libvirt/virsh.ts";
import { startJobUnit } from "../../jobs/job-unit.ts";
import { newJobId } from "../../jobs/start.ts";
import { JobLockedError, lockJob } from "../../backup/lock.ts";
import { systemdRuns } from "../../jobs/systemd.ts";
import { currentProcess } from "../../tools/proc.ts";
import { parseChainName, parseInstantName, parsePointName } from "./args.ts";
import { helperPath } from "./backup-job.ts";
import { answer, findVm, parseDomainName } from "./domain-arg.ts";
import { resolveRequest } from "./restore-job.ts";

/** How long a start may take before the caller gives up waiting (the holder goes on and records the end). */
const START_WAIT_MS = 180_000;
const DISCARD_WAIT_MS = 60_000;

interface StartOptions { domain: string; point: string; chain?: string; name: string; folder: string }

function sleep(ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms));
}

/** What a holder is sent to end without removing its VM (after Move to storage). */
const RELEASE_SIGNAL = "SIGUSR1";

/** Waits until the move the record names has ended (it undoes itself when it did not finish). */
async function waitForMoveEnd(name: string): Promise<void> {
    const deadline = Date.now() + DISCARD_WAIT_MS;
    for (let rec = readRecord(name); rec && moverAlive(rec); rec = readRecord(name)) {
        if (Date.now() > deadline)
            throw new Error(`${name}: its move (pid ${rec.move!.pid}) did not end within ${DISCARD_WAIT_MS / 1000} s`);
        await sleep(200);
    }
}

/** A copy's bandwidth in MiB/s: a whole number from 1 on. */
function parseBandwidth(value: string): number {
    if (!/^[1-9][0-9]{0,6}$/.test(value))
        throw new InvalidArgumentError("a whole number of MiB/s from 1 to 9999999");
    return Number(value);
}

async function waitForHolderEnd(rec: InstantRecord): Promise<void> {
    const deadline = Date.now() + DISCARD_WAIT_MS;
    while (fs.existsSync(recordFile(rec.name)) && holderAlive(rec)) {
        if (Date.now() > deadline)
            throw new Error(`${rec.name}: its holder (pid ${rec.pid}) did not end within ${DISCARD_WAIT_MS / 1000} s`);
        await sleep(200);
    }
}

function describe(rec: InstantRecord): Omit<InstantVmSummary, "vmState" | "alive"> {
    return { name: rec.name, domain: rec.domain, point: rec.point, state: rec.state, startedAt: rec.startedAt,
        disks: rec.disks.map(d => ({ dev: d.dev, overlay: d.overlay, size: d.size })) };
}

/**
 * Refuses a folder for overlays or moved disks that is (or holds) the VM's backup folder, as typed and as it
 * resolves: its files would count as backup files there. `role` names it in the error.
 */
function checkOutsideBackups(folder: string, backupFolder: string, role: string): void {
    const typed = checkInstantFolder(folder, backupFolder);
    if ("problem" in typed)
        throw new Error(describeTargetProblem(typed.problem, typed.forbidden).replace("the restore folder", role));
    const real = (p: string) => {
        try {
            return fs.realpathSync(p);
        } catch {
            return p;
        }
    };
    const resolved = resolveHostFolder(folder, role).folder;
    const backups = real(backupFolder);
    if (within(resolved, backups) || within(backups, resolved))
        throw new Error(`${role} ${folder} resolves to ${resolved}, which is or holds the backup folder ${backups}`);
}

async function resolveStart(opts: StartOptions): Promise<{ vm: { uuid: string }; folder: string; until: string }> {
    if (!path.isAbsolute(opts.folder))
        throw new Error(`the overlay folder must be an absolute path: ${opts.folder}`);
    resolveHostFolder(opts.folder, "an overlay folder");  // refused here already, before a holder starts
    const { vm, vmFolder, folder, point } = await resolveRequest(opts);
    checkOutsideBackups(opts.folder, vmFolder, "the overlay folder");
    if (!point)
        throw new Error(`${opts.point} is not a complete restore point of ${opts.domain}`);
    return { vm, folder, until: point.disks[0].file };
}

/**
 * Starts the holder outside the Cockpit session, as the jobs are (jobs/start.ts): its own transient unit
 * where systemd runs (stopping the unit is a Discard: the holder ends on SIGTERM), else detached with its
 * output in <name>.log.
 */
function startHolder(args: string[], who: { uuid: string; name: string }): void {
    if (systemdRuns()) {
        startJobUnit({ uuid: who.uuid.toLowerCase(), domain: who.name, id: newJobId(), kind: "start-from-backup" }, [process.execPath, ...args]);
        return;
    }
    const log = createFresh(holderLogFile(who.name));
    try {
        const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", log, log], cwd: "/" });
        child.on("error", () => {});  // seen as no record
        child.unref();
    } finally {
        fs.closeSync(log);
    }
}

function addStartOptions(command: Command): Command {
    return command
        .requiredOption("--domain <name>", "virtual machine whose backup the new one starts from", parseDomainName)
        .requiredOption("--point <name>", "restore point (as list-restore-points names it)", parsePointName)
        .option("--chain <name>", "its chain (as list-restore-points names it; default: the folder itself)", parseChainName)
        .requiredOption("--name <name>", "name of the new virtual machine", parseInstantName)
        .requiredOption("--folder <dir>", "absolute folder for the overlays (trusted; made when missing)")
        .allowExcessArguments(false);
}

/**
 * move-instant-vm under its lock: first undoes what a killed move left, checks the folder, then moves; a signal
 * or closed output before the pivot stops it (the copies go, the VM runs on its overlays).
 */
async function moveLocked(found: InstantRecord, opts: { name: string; folder: string; bandwidth?: number }): Promise<void> {
    const rec = await settleDeadMove(found);  // what a killed move left goes first
    resolveHostFolder(opts.folder, "a folder for the moved disks");  // refused in the words moveInstantVm uses
    const source = await findVm(rec.domain).catch(() => null);  // the VM may be gone: then no folder to keep clear of
    if (source)
        checkOutsideBackups(opts.folder, readSettings(source.uuid, source.name).folder, "the folder for the moved disks");
    const stopper = new AbortController();
    const stop = (why: string) => stopper.abort(new Error(`the move of ${opts.name} was stopped (${why}); it runs on as before`));
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
        process.on(sig, () => stop(sig));
    process.stdout.on("error", () => stop("its output was closed"));
    const disks = await moveInstantVm(rec, opts.folder, p => answer({ event: "progress", ...p } satisfies InstantMoveProgress),
        { bandwidth: opts.bandwidth, signal: stopper.signal });
    process.kill(rec.pid, RELEASE_SIGNAL);
    await waitForHolderEnd(rec);
    answer({ event: "moved", name: opts.name, disks });
}

export function addInstantCommands(program: Command): void {
    addStartOptions(program.command("start-from-backup")
        .description("start a new VM on a restore point's disks (qcow2 overlays on the mapped point); answers once it runs"))
        .action(async (opts: StartOptions) => {
            await removeStaleInstantVms();
            if (readRecord(opts.name) !== null || await vmExists(opts.name))
                throw new Error(`a virtual machine named ${opts.name} exists already`);
            const { vm } = await resolveStart(opts);  // the point's refusals, before any process starts
            const args = [helperPath(), "run-instant-vm", "--domain", opts.domain, "--point", opts.point,
                ...(opts.chain ? ["--chain", opts.chain] : []), "--name", opts.name, "--folder", opts.folder];
            startHolder(args, { uuid: vm.uuid, name: opts.name });
            const deadline = Date.now() + START_WAIT_MS;
            const noRecordDeadline = Date.now() + 20_000;
            for (;;) {
                await sleep(200);
                let rec = readRecord(opts.name);
                if (rec && !holderAlive(rec))
                    rec = readRecord(opts.name);  // its last word, written just before it ended
                if (rec?.state === "running")
                    return answer({ event: "started", ...describe(rec) });
                if (rec?.state === "failed") {
                    removeRecord(opts.name);
                    throw new Error(rec.error ?? "the start failed");
                }
                if (rec ? rec.state === "starting" && !holderAlive(rec) : Date.now() > noRecordDeadline) {
                    removeRecord(opts.name, true);  // its output stays, for the reason
                    throw new Error(`the process starting ${opts.name} ended without starting it (see ${holderLogFile(opts.name)} or the journal)`);
                }
                if (Date.now() > deadline)
                    throw new Error(`${opts.name} did not start within ${START_WAIT_MS / 1000} s`);
            }
        });

    addStartOptions(program.command("run-instant-vm")
        .description("(internal) hold a started-from-backup VM's mapping until SIGTERM"))
        .action(async (opts: StartOptions) => {
            const rec: InstantRecord = {
                name: opts.name, domain: opts.domain, point: opts.point, state: "starting",
                ...currentProcess(), files: [], disks: [], startedAt: Date.now(),
            };
            writeRecord(rec);
            let stop: (why: string) => void = () => {};
            const stopped = new Promise<string>(resolve => stop = resolve);
            for (const sig of ["SIGINT", "SIGTERM", "SIGHUP", RELEASE_SIGNAL] as const)
                process.on(sig, () => stop(sig));
            let vm;
            try {
                const { folder, until } = await resolveStart(opts);
                vm = await startInstantVm({ folder, until, name: opts.name, overlayFolder: opts.folder }, files => {
                    rec.files = files;
                    writeRecord(rec);
                });
            } catch (err) {
                writeRecord({ ...rec, state: "failed", error: (err as Error).message });
                process.exitCode = 1;
                return;
            }
            Object.assign(rec, { state: "running", uuid: vm.uuid, files: vm.files, disks: vm.disks });
            writeRecord(rec);
            console.log(`${opts.name} running; mapping ${vm.mapping.dir}`);
            if (await stopped === RELEASE_SIGNAL) {
                // Moved to storage: the VM, its boot files and console files stay; overlays and mapping go.
                for (const f of [...vm.disks.map(d => d.overlay), ...vm.files.filter(f => f.endsWith(`/${opts.name}.xml`))])
                    fs.rmSync(f, { force: true });
            } else {
                await removeInstantVm(rec);
            }
            await vm.mapping.stop();
            removeRecord(opts.name);
        });

    program
        .command("discard-instant-vm")
        .description("remove a started-from-backup VM, its overlays and its mapping")
        .requiredOption("--name <name>", "the started-from-backup VM", parseInstantName)
        .allowExcessArguments(false)
        .action(async (opts: { name: string }) => {
            let rec = readRecord(opts.name);
            if (!rec)
                throw new Error(`${opts.name} is not a virtual machine started from a backup`);
            refuseOtherNamespace(rec);
            if (moverAlive(rec)) {
                // A move under way stops first and removes its copies itself.
                process.kill(rec.move!.pid, "SIGTERM");
                await waitForMoveEnd(opts.name);
                // One past its pivot finishes instead: the VM is an ordinary one now, its files its own.
                rec = readRecord(opts.name);
                if (!rec)
                    throw new Error(`${opts.name} was moved to storage meanwhile: it was not discarded`);
            }
            rec = await settleDeadMove(rec);
            if (holderAlive(rec)) {
                process.kill(rec.pid, "SIGTERM");
                await waitForHolderEnd(rec);
            }
            // Whatever a holder that died meanwhile left.
            if (fs.existsSync(recordFile(opts.name))) {
                await removeInstantVm(rec);
                removeRecord(opts.name);
            }
            // The holder removes the files it made; a disk a killed move had pivoted is only in the record.
            for (const f of rec.files)
                fs.rmSync(f, { force: true });
            removeStaleMaps();
            answer({ event: "discarded", name: opts.name });
        });

    program
        .command("move-instant-vm")
        .description("copy a started-from-backup VM's disks into a folder while it runs, then drop its overlays and mapping")
        .requiredOption("--name <name>", "the started-from-backup VM", parseInstantName)
        .requiredOption("--folder <dir>", "absolute folder for the disks (trusted; made when missing)")
        .option("--bandwidth <MiB/s>", "limit each disk's copy to this many MiB/s (the running VM's own I/O keeps its share)", parseBandwidth)
        .allowExcessArguments(false)
        .action(async (opts: { name: string; folder: string; bandwidth?: number }) => {
            if (!path.isAbsolute(opts.folder))
                throw new Error(`the folder must be an absolute path: ${opts.folder}`);
            const rec = readRecord(opts.name);
            if (!rec || rec.state !== "running" || !holderAlive(rec))
                throw new Error(`${opts.name} is not a running virtual machine started from a backup`);
            refuseOtherNamespace(rec);
            // One move of a VM at a time (the kernel frees the lock of a killed one).
            const lock = await lockJob(`instant-move.${opts.name}`, opts.name).catch((err: unknown) => {
                throw err instanceof JobLockedError ? new Error(`${opts.name} is being moved already${err.pid ? ` (process ${err.pid})` : ""}`) : err;
            });
            try {
                await moveLocked(rec, opts);
            } finally {
                lock.release();
            }
        });

    program
        .command("list-instant-vms")
        .description("the VMs started from a backup, with libvirt's state of each, as one JSON line")
        .option("--domain <name>", "only those started from this VM's backups", parseDomainName)
        .allowExcessArguments(false)
        .action(async (opts: { domain?: string }) => {
            const records: InstantRecord[] = [];
            for (const r of listRecords().filter(r => opts.domain === undefined || r.domain === opts.domain))
                records.push(await settleDeadMove(r));  // what a killed move left goes
            // One virsh process for all of them; a VM libvirt does not know has no state.
            const states = records.length === 0 ? [] : (await virshBatch(records.map(r => ["domstate", r.name]))).outputs;
            const vms: InstantVmSummary[] = records.map((r, i) => ({ ...describe(r), vmState: states[i]?.trim() || null, alive: holderAlive(r) }));
            answer({ vms });
        });
}
