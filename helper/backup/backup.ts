// One backup run of one VM: choose the level, take the lock, set up checkpoints, export the disks over
// NBD (libvirt pull-mode job, or qemu-nbd for a VM that is off), copy each disk through the shared
// pipeline into the folder, then record the chain. Any failure or cancellation undoes what this run
// made: the job is ended, its checkpoint deleted, its files removed; the chain stays as it was.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { copyExtents, type CopyProgress } from "../engine/copy.ts";
import type { Extent, Sink } from "../engine/endpoint.ts";
import { allocationToExtents, dataBytes, dirtyToExtents, type StatusRange } from "../engine/extents.ts";
import { CONTEXT_ALLOCATION, NbdSource } from "../engine/nbd-source.ts";
import { mapWithNbdinfo } from "../engine/qemu-map.ts";
import { RawSink } from "../engine/raw-sink.ts";
import { StreamSink } from "../engine/stream-sink.ts";
import {
    chainFullFileName, checkpointListFileName, checksumFileName, dataFileName, isoLocalDate, logFileName, parseDataFileName, partialFileName, qcowInfoFileName, vmConfigFileName,
    type StreamMeta,
} from "../format/index.ts";
import { buildCheckpointXml, buildPullBackupXml, parseDomainXml, type DiskConfig, type DomainConfig } from "../libvirt/domain-xml.ts";
import { LibvirtError, virsh } from "../libvirt/virsh.ts";
import { checkpointXml, deleteCheckpoint, deleteOurCheckpoints, listCheckpoints, redefineMissing } from "./checkpoints.ts";
import { BackupRefusedError, checkpointIndex, planFallbackFull, planLevel, type Level, type LevelPlan, type RequestedLevel } from "./levels.ts";
import { checkBitmaps, checkOfflineBitmaps } from "./bitmaps.ts";
import { RunJournal } from "./journal.ts";
import { lockJob } from "./lock.ts";
import { startOfflineExport, type OfflineExport } from "./offline-export.ts";
import { endJob, runningJob, socketPath, startPullJob } from "./pull-job.ts";

export interface BackupOptions {
    domain: string;
    uri?: string;
    level: RequestedLevel;
    /** stream: virtnbdbackup's stream format; raw: a full-size sparse image (full/copy only). */
    type: "stream" | "raw";
    output: string;
    /** lz4 level, or false. */
    compress: false | number;
    /** Take extents from `nbdinfo --map` instead of libnbd block status. */
    qemuExtents?: boolean;
    /** Only these disks (targets), when given. */
    include?: string[];
    exclude?: string[];
    /** Back up raw-format disks too (in full; full/copy only). */
    raw?: boolean;
    /** Start a shut-off VM paused for the backup, and stop it after. */
    startDomain?: boolean;
    /** Disks copied at once. */
    workers?: number;
    /** Where libvirt keeps the fleecing overlays during the job. */
    scratchDir?: string;
    /** Guest mount points to freeze; undefined freezes all, [] none. */
    freezeMountpoints?: string[];
    /** NBD connections per disk (when the server allows multi-conn). */
    connections?: number;
    /** Requests in flight per disk. */
    inFlight?: number;
    signal?: AbortSignal;
    onEvent?: (event: BackupEvent) => void;
    now?: Date;
}

export type BackupEvent =
    | { event: "plan"; domain: string; level: Level; checkpoint: string; parent: string; online: boolean; disks: { dev: string; size: number }[] }
    | { event: "disk"; dev: string; file: string; total: number; size: number }
    | { event: "progress"; dev: string; done: number; total: number }
    | { event: "disk-done"; dev: string; file: string; bytes: number; fileBytes: number }
    | { event: "info"; message: string }
    | { event: "warning"; message: string };

export interface BackupResult {
    domain: string;
    level: Level;
    checkpoint: string;
    parent: string;
    files: string[];
    disks: { dev: string; file: string; dataBytes: number; fileBytes: number }[];
    seconds: number;
}

const MiB = 1 << 20;

/** Where each disk can be read: an NBD unix socket and export name. */
interface DiskExport {
    socket: string;
    exportName: string;
    /** Meta context holding the changes for inc/diff. */
    dirtyContext?: string;
}

export async function runBackup(options: BackupOptions): Promise<BackupResult> {
    const started = Date.now();
    const emit = options.onEvent ?? (() => {});
    const uri = options.uri;
    const output = path.resolve(options.output);
    const now = options.now ?? new Date();
    checkCancelled(options.signal);
    // One disk failing stops the others: the run fails as a whole.
    const stopAll = new AbortController();
    const onCancel = () => stopAll.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onCancel);

    const domain = await loadDomain(options.domain, uri);
    const lock = lockJob(domain.uuid, domain.name);
    // Everything made by this run is journaled first and undone if it fails (or by the next run, if it dies).
    let journal: RunJournal | undefined;
    let jobStarted = false;
    let createdCheckpoint: string | undefined;
    let startedDomain = false;
    let offline: OfflineExport[] = [];
    let log: fs.WriteStream | undefined;
    const note = (e: BackupEvent) => {
        emit(e);
        log?.write(`${new Date().toISOString()} ${JSON.stringify(e)}\n`);
    };

    try {
        await clearStaleJob(domain, lock.tookOverStale, uri, note);
        prepareFolder(output);
        const opened = RunJournal.open(output);
        journal = opened.journal;
        if (opened.rolledBack.length)
            emit({ event: "warning", message: `removed files of a backup run that died: ${opened.rolledBack.join(", ")}` });
        let state = await domainState(domain.name, uri);
        let online = state === "running" || state === "paused";
        const folder = readFolder(output, domain.name);
        const requestedLevel = options.level;
        if (!online && options.startDomain && (requestedLevel === "full" || (requestedLevel === "auto" && !folder.hasData))) {
            await virsh(["start", "--domain", domain.name, "--paused"], { uri });
            startedDomain = true;
            online = true;
            note({ event: "info", message: `started ${domain.name} paused for the backup` });
        }
        let plan = planLevel(requestedLevel, folder, { online, now });
        if (options.type === "raw" && (plan.level === "inc" || plan.level === "diff"))
            throw new BackupRefusedError("raw output holds only full or copy backups: use the stream format for inc/diff");

        const logPath = path.join(output, logFileName(plan.level, now));
        log = fs.createWriteStream(logPath, { flags: "a" });
        // A full disk must fail the backup through its data writes, not crash the process through the log.
        log.on("error", () => {});
        for (const message of plan.notes)
            note({ event: "info", message });

        const disks = selectDisks(domain, plan.level, options, note);
        const checkpointDir = path.join(output, "checkpoints");
        const chain = folder.checkpoints;
        let fallback = false;

        if (!online && plan.parentCheckpoint) {
            // Offline there is no new checkpoint to start a full from: a broken bitmap is an error.
            const qcow2 = disks.filter(d => d.driverType === "qcow2").map(d => ({ target: d.target, path: d.path! }));
            const problems = await checkOfflineBitmaps(qcow2, plan.parentCheckpoint);
            if (problems.length)
                throw new BackupRefusedError(`the changes since ${plan.parentCheckpoint} are not known (${problems.map(p => `${p.disk}: ${p.reason}`).join("; ")}): start the VM and run a full backup`);
        }
        if (online && plan.parentCheckpoint) {
            const problem = await incrementalProblem(domain, chain, checkpointDir, plan, disks, uri, note);
            if (problem) {
                plan = planFallbackFull(folder, problem);
                fallback = true;
                note({ event: "warning", message: plan.notes[0] });
            }
        }
        if (online && plan.level === "full")
            await clearOldCheckpoints(domain, checkpointDir, uri, note);
        else if (online && plan.createCheckpoint)
            await clearLeftoverCheckpoints(domain, chain, uri, note);
        checkCancelled(options.signal);

        const vmConfig = await virsh(["dumpxml", "--domain", domain.name], { uri });
        const exports = new Map<string, DiskExport>();
        const scratchDir = options.scratchDir ?? "/var/tmp";
        if (online) {
            const socket = socketPath(domain.uuid);
            fs.rmSync(socket, { force: true });
            const tag = randomBytes(4).toString("hex");
            const backupXml = buildPullBackupXml({
                socketPath: socket,
                incremental: plan.parentCheckpoint || null,
                disks: domain.disks.filter(d => d.device === "disk").map(d => {
                    const chosen = disks.some(c => c.target === d.target);
                    return { target: d.target, backup: chosen, scratchFile: chosen ? path.join(scratchDir, `backup.${tag}.${d.target}`) : undefined };
                }),
            });
            const checkpointXml = plan.createCheckpoint
                ? buildCheckpointXml({
                    name: plan.checkpointName,
                    description: "Backup checkpoint",
                    // Raw disks cannot hold bitmaps; they are copied in full each time.
                    disks: domain.disks.filter(d => d.device === "disk")
                            .map(d => ({ target: d.target, checkpoint: d.driverType === "qcow2" && disks.some(c => c.target === d.target) })),
                })
                : undefined;
            await withFrozenFilesystems(domain.name, options.freezeMountpoints, uri, note, async () => {
                await startPullJob({ domain: domain.name, uri, backupXml, checkpointXml });
                jobStarted = true;
                if (checkpointXml)
                    createdCheckpoint = plan.checkpointName;
            });
            for (const d of disks)
                exports.set(d.target, { socket, exportName: d.target, dirtyContext: plan.parentCheckpoint ? `qemu:dirty-bitmap:backup-${d.target}` : undefined });
        } else {
            offline = await Promise.all(disks.map(d => startOfflineExport({
                image: d.path!, format: d.driverType ?? "raw", exportName: d.target,
                bitmap: plan.parentCheckpoint && d.driverType === "qcow2" ? plan.parentCheckpoint : undefined,
            })));
            disks.forEach((d, i) => exports.set(d.target, {
                socket: offline[i].socket, exportName: d.target,
                dirtyContext: plan.parentCheckpoint && d.driverType === "qcow2" ? `qemu:dirty-bitmap:${plan.parentCheckpoint}` : undefined,
            }));
        }

        note({ event: "plan", domain: domain.name, level: plan.level, checkpoint: plan.checkpointName, parent: plan.parentCheckpoint, online, disks: disks.map(d => ({ dev: d.target, size: 0 })) });

        const results = await inParallel(disks, options.workers ?? disks.length, async disk => {
            // As the other tool does: raw images (of -t raw, and of raw-format disks, always "copy") keep
            // the .data name; readers tell them from streams by the missing meta frame.
            const level = disk.driverType === "raw" ? "copy" : plan.level;
            const file = path.join(output, fallback ? chainFullFileName(disk.target, plan.ident)
                : dataFileName(disk.target, level, level === "full" || level === "copy" ? undefined : plan.ident));
            journal!.add(file, partialFileName(file), checksumFileName(file));
            return backupDisk(disk, exports.get(disk.target)!, file, plan, { ...options, signal: stopAll.signal }, now, note);
        }, () => stopAll.abort(new Error("another disk failed")));

        if (jobStarted) {
            await endJob(domain.name, uri);
            jobStarted = false;
        }
        await Promise.all(offline.map(o => o.stop()));
        offline = [];

        // The data is safe; now record it. Chain files last, so an inc never trusts an unfinished run.
        await saveSidecars(output, domain, disks, plan, vmConfig, journal);
        if (createdCheckpoint) {
            fs.mkdirSync(checkpointDir, { recursive: true });
            const xml = await checkpointXml(domain.name, createdCheckpoint, uri);
            writeFileAtomic(path.join(checkpointDir, `${createdCheckpoint}.xml`), xml);
            const list = plan.level === "full" && !fallback ? [createdCheckpoint] : [...chain, createdCheckpoint];
            writeFileAtomic(path.join(output, checkpointListFileName(domain.name)), JSON.stringify(list));
            createdCheckpoint = undefined;
        }
        journal.commit();
        const result: BackupResult = {
            domain: domain.name,
            level: plan.level,
            checkpoint: plan.checkpointName,
            parent: plan.parentCheckpoint,
            files: results.map(r => r.file),
            disks: results,
            seconds: (Date.now() - started) / 1000,
        };
        note({ event: "info", message: `backup finished: ${result.files.map(f => path.basename(f)).join(", ")}` });
        return result;
    } catch (err) {
        note({ event: "warning", message: `backup failed: ${errorMessage(err)}` });
        await undo();
        throw err;
    } finally {
        if (startedDomain)
            await virsh(["destroy", "--domain", domain.name], { uri }).catch(() => {});
        await new Promise<void>(resolve => log ? log.end(resolve) : resolve());
        options.signal?.removeEventListener("abort", onCancel);
        lock.release();
    }

    async function undo() {
        if (jobStarted)
            await endJob(domain.name, uri).catch(() => {});
        await Promise.all(offline.map(o => o.stop().catch(() => {})));
        if (createdCheckpoint)
            await deleteCheckpoint(domain.name, createdCheckpoint, { uri }).catch(e => emit({ event: "warning", message: `could not delete checkpoint ${createdCheckpoint}: ${errorMessage(e)}` }));
        journal?.rollBack();
    }
}

async function backupDisk(
    disk: DiskConfig, source: DiskExport, file: string, plan: LevelPlan, options: BackupOptions, now: Date,
    note: (e: BackupEvent) => void,
): Promise<{ dev: string; file: string; dataBytes: number; fileBytes: number }> {
    const incremental = plan.level === "inc" || plan.level === "diff";
    // A raw disk has no bitmap: in an inc/diff it would not be here (selectDisks), so it is always read in full.
    const contexts = [CONTEXT_ALLOCATION, ...(incremental && source.dirtyContext ? [source.dirtyContext] : [])];
    const nbd = await NbdSource.open({ socket: source.socket, exportName: source.exportName, contexts, connections: options.connections ?? 2 });
    try {
        const extents = await planExtents(nbd, source, incremental, options.qemuExtents ?? false);
        const total = dataBytes(extents);
        note({ event: "disk", dev: disk.target, file, total, size: nbd.size });
        let sink: Sink;
        // Raw-format disks have no stream: they are copied as raw images, like the other tool does.
        const type = disk.driverType === "raw" ? "raw" : options.type;
        if (type === "raw") {
            sink = await RawSink.create(file, nbd.size);
        } else {
            const meta: StreamMeta = {
                virtualSize: nbd.size,
                dataSize: total,
                date: isoLocalDate(now),
                diskName: disk.target,
                diskFormat: disk.driverType ?? "raw",
                checkpointName: plan.checkpointName,
                compressed: options.compress,
                compressionMethod: "lz4",
                parentCheckpoint: plan.parentCheckpoint,
                incremental,
                streamVersion: 2,
            };
            sink = await StreamSink.create(file, meta, { compress: options.compress, maxRequestSize: nbd.maxRequest });
        }
        // Compressed streams need one lz4 frame per server-sized request (the other tool's reader expects it).
        const compressed = type === "stream" && options.compress !== false;
        const maxChunk = compressed ? nbd.maxRequest : 4 * MiB;
        let last = 0;
        const result = await copyExtents(extents, nbd, sink, {
            maxChunk,
            maxInFlight: options.inFlight ?? (compressed ? 4 : 16),
            maxBytesInFlight: compressed ? 64 * MiB : 64 * MiB,
            signal: options.signal,
            onProgress: (p: CopyProgress) => {
                // Progress events at most every 64 MiB and at the end: enough for a live bar.
                if (p.done - last >= 64 * MiB || p.done === p.total) {
                    last = p.done;
                    note({ event: "progress", dev: disk.target, done: p.done, total: p.total });
                }
            },
        });
        const fileBytes = fs.statSync(file).size;
        note({ event: "disk-done", dev: disk.target, file, bytes: result.done, fileBytes });
        return { dev: disk.target, file, dataBytes: result.done, fileBytes };
    } finally {
        await nbd.close();
    }
}

async function planExtents(nbd: NbdSource, source: DiskExport, incremental: boolean, useQemu: boolean): Promise<Extent[]> {
    const status = (context: string): Promise<StatusRange[]> =>
        useQemu ? mapWithNbdinfo(source.socket, source.exportName, context) : nbd.status(context);
    if (!incremental)
        return allocationToExtents(await status(CONTEXT_ALLOCATION));
    if (!source.dirtyContext)
        throw new Error(`no dirty bitmap is exported for ${source.exportName}`);
    return dirtyToExtents(await status(source.dirtyContext));
}

async function loadDomain(name: string, uri?: string): Promise<DomainConfig> {
    if (!name || name.startsWith("-") || /[\0\n]/.test(name))
        throw new BackupRefusedError(`invalid domain name ${JSON.stringify(name)}`);
    try {
        return parseDomainXml(await virsh(["dumpxml", "--domain", name, "--inactive"], { uri }));
    } catch (err) {
        if (err instanceof LibvirtError && err.code === "no-domain")
            throw new BackupRefusedError(`no virtual machine named ${name}`);
        throw err;
    }
}

async function domainState(name: string, uri?: string): Promise<string> {
    return (await virsh(["domstate", "--domain", name], { uri })).trim();
}

/** A libvirt job left by a killed run is ended; one started by someone else is not ours to touch. */
async function clearStaleJob(domain: DomainConfig, stale: boolean, uri: string | undefined, note: (e: BackupEvent) => void) {
    const state = await domainState(domain.name, uri);
    if (state !== "running" && state !== "paused")
        return;
    const job = await runningJob(domain.name, uri);
    if (!job)
        return;
    if (!stale || job !== "Backup")
        throw new BackupRefusedError(`${domain.name} already has a running ${job.toLowerCase()} job (see: virsh domjobinfo ${domain.name})`);
    note({ event: "warning", message: `ending the backup job a killed run left on ${domain.name}` });
    await endJob(domain.name, uri);
    fs.rmSync(socketPath(domain.uuid), { force: true });
}

function prepareFolder(output: string) {
    try {
        fs.mkdirSync(output, { recursive: true });
        if (!fs.statSync(output).isDirectory())
            throw new BackupRefusedError(`${output} is not a directory`);
        fs.accessSync(output, fs.constants.W_OK);
    } catch (err) {
        if (err instanceof BackupRefusedError)
            throw err;
        throw new BackupRefusedError(`cannot write to the target folder ${output}: ${errorMessage(err)}`);
    }
}

function readFolder(output: string, vm: string) {
    const names = fs.readdirSync(output);
    const cptFile = path.join(output, checkpointListFileName(vm));
    let checkpoints: string[] = [];
    if (fs.existsSync(cptFile)) {
        try {
            const parsed: unknown = JSON.parse(fs.readFileSync(cptFile, "utf8"));
            if (!Array.isArray(parsed) || !parsed.every(n => typeof n === "string"))
                throw new Error("not a list of names");
            checkpoints = parsed;
        } catch (err) {
            throw new BackupRefusedError(`the checkpoint list ${cptFile} is unreadable: ${errorMessage(err)}`);
        }
    }
    return {
        checkpoints,
        hasData: names.some(n => parseDataFileName(n) !== null),
        partials: names.filter(n => n.endsWith(".partial")),
    };
}

function selectDisks(domain: DomainConfig, level: Level, options: BackupOptions, note: (e: BackupEvent) => void): DiskConfig[] {
    const include = options.include?.length ? new Set(options.include) : undefined;
    const exclude = new Set(options.exclude ?? []);
    for (const t of [...(include ?? []), ...exclude]) {
        if (!domain.disks.some(d => d.target === t))
            throw new BackupRefusedError(`${domain.name} has no disk ${t}`);
    }
    const chosen: DiskConfig[] = [];
    for (const d of domain.disks) {
        if (d.device !== "disk" || (include && !include.has(d.target)) || exclude.has(d.target))
            continue;
        if (d.type !== "file" && d.type !== "block") {
            note({ event: "warning", message: `skipping ${d.target}: ${d.type} disks are not supported` });
            continue;
        }
        if (d.driverType !== "qcow2") {
            if (!options.raw) {
                note({ event: "warning", message: `skipping ${d.target}: ${d.driverType ?? "raw"} disks have no checkpoints (use -r/--raw to copy them in full)` });
                continue;
            }
            if (level === "inc" || level === "diff") {
                note({ event: "warning", message: `skipping raw disk ${d.target} in an ${level} backup` });
                continue;
            }
        }
        if (!d.path)
            throw new BackupRefusedError(`disk ${d.target} has no source path`);
        chosen.push(d);
    }
    if (chosen.length === 0)
        throw new BackupRefusedError(`${domain.name} has no disk to back up (qcow2 disks are backed up; raw ones with -r)`);
    return chosen;
}

/**
 * Why an inc/diff cannot build on the chain's last checkpoint, or undefined when it can. Checkpoints
 * libvirt forgot are redefined from the folder first (VM re-defined, host moved).
 */
async function incrementalProblem(domain: DomainConfig, chain: string[], checkpointDir: string, plan: LevelPlan, disks: DiskConfig[], uri: string | undefined, note: (e: BackupEvent) => void): Promise<string | undefined> {
    // Only the part of the chain since its last full has saved definitions (a full clears older ones).
    const first = chain.findIndex(name => fs.existsSync(path.join(checkpointDir, `${name}.xml`)));
    try {
        const redefined = first < 0 ? [] : await redefineMissing(domain.name, chain.slice(first), checkpointDir, uri);
        if (redefined.length)
            note({ event: "info", message: `redefined checkpoints from the backup folder: ${redefined.join(", ")}` });
    } catch (err) {
        return `the checkpoint chain cannot be restored in libvirt (${errorMessage(err)})`;
    }
    if (!(await listCheckpoints(domain.name, uri)).includes(plan.parentCheckpoint))
        return `checkpoint ${plan.parentCheckpoint} is gone from libvirt and the folder has no definition of it`;
    const qcow2 = disks.filter(d => d.driverType === "qcow2").map(d => ({ target: d.target, path: d.path! }));
    const problems = await checkBitmaps(domain.name, qcow2, plan.parentCheckpoint, uri);
    if (problems.length)
        return `the changes since ${plan.parentCheckpoint} are not known: ${problems.map(p => `${p.disk}: ${p.reason}`).join("; ")}`;
    return undefined;
}

/** Checkpoints past the chain's end were made by a run that died before recording them. */
async function clearLeftoverCheckpoints(domain: DomainConfig, chain: string[], uri: string | undefined, note: (e: BackupEvent) => void) {
    const leftovers = (await listCheckpoints(domain.name, uri))
            .filter(n => (checkpointIndex(n) ?? -1) >= chain.length);
    if (leftovers.length) {
        note({ event: "warning", message: `deleting checkpoints a failed run left: ${leftovers.join(", ")}` });
        await deleteOurCheckpoints(domain.name, leftovers, { uri });
    }
}

/** A full backup starts a new chain: our old checkpoints go (foreign ones stay), with their saved definitions. */
async function clearOldCheckpoints(domain: DomainConfig, checkpointDir: string, uri: string | undefined, note: (e: BackupEvent) => void) {
    const ours = (await listCheckpoints(domain.name, uri)).filter(n => checkpointIndex(n) !== undefined);
    if (ours.length) {
        note({ event: "info", message: `removing the previous chain's checkpoints: ${ours.join(", ")}` });
        try {
            await deleteOurCheckpoints(domain.name, ours, { uri });
        } catch {
            // Bitmaps that are broken or gone cannot be merged: drop the metadata only.
            const left = (await listCheckpoints(domain.name, uri)).filter(n => checkpointIndex(n) !== undefined);
            await deleteOurCheckpoints(domain.name, left, { uri, metadataOnly: true });
        }
    }
    fs.rmSync(checkpointDir, { recursive: true, force: true });
}

async function withFrozenFilesystems(domain: string, mountpoints: string[] | undefined, uri: string | undefined, note: (e: BackupEvent) => void, fn: () => Promise<void>) {
    if (mountpoints && mountpoints.length === 0)
        return fn();
    let frozen = false;
    try {
        const args = ["domfsfreeze", "--domain", domain, ...(mountpoints ?? []).flatMap(m => ["--mountpoint", m])];
        await virsh(args, { uri, timeoutMs: 30_000 });
        frozen = true;
    } catch (err) {
        note({ event: "warning", message: `guest filesystems not frozen (is the guest agent running?): the backup is crash-consistent. ${errorMessage(err)}` });
    }
    try {
        await fn();
    } finally {
        if (frozen)
            await virsh(["domfsthaw", "--domain", domain], { uri }).catch(e => note({ event: "warning", message: `thawing guest filesystems failed: ${errorMessage(e)}` }));
    }
}

async function saveSidecars(output: string, domain: DomainConfig, disks: DiskConfig[], plan: LevelPlan, vmConfig: string, journal: RunJournal) {
    const write = (name: string, data: string | Buffer) => {
        const file = path.join(output, name);
        journal.add(name);
        writeFileAtomic(file, data);
    };
    write(vmConfigFileName(plan.ident), vmConfig);
    for (const d of disks) {
        if (d.driverType !== "qcow2" || !d.path)
            continue;
        const info = await runQemuImgInfo(d.path);
        write(qcowInfoFileName(d.target, plan.ident), info);
    }
    for (const bootFile of [domain.loader, domain.nvram, domain.kernel, domain.initrd]) {
        if (bootFile && fs.existsSync(bootFile))
            write(`${path.basename(bootFile)}.${plan.ident}`, await fsp.readFile(bootFile));
    }
}

async function runQemuImgInfo(image: string): Promise<string> {
    const { execFile } = await import("node:child_process");
    return new Promise((resolve, reject) => {
        execFile("qemu-img", ["info", "--output", "json", "--force-share", image], { maxBuffer: 16 * MiB }, (err, stdout, stderr) => {
            if (err)
                reject(new Error(`qemu-img info ${image}: ${stderr.trim() || err.message}`));
            else
                resolve(stdout);
        });
    });
}

function writeFileAtomic(file: string, data: string | Buffer) {
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
}

async function inParallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>, onFirstError: () => void): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    let failed: unknown;
    const worker = async () => {
        while (next < items.length && failed === undefined) {
            const i = next++;
            try {
                results[i] = await fn(items[i]);
            } catch (err) {
                if (failed === undefined) {
                    failed = err;
                    onFirstError();
                }
            }
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
    if (failed !== undefined)
        throw failed;
    return results;
}

function checkCancelled(signal?: AbortSignal) {
    if (signal?.aborted)
        throw new Error("the backup was cancelled");
}

export function errorMessage(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
}
