// SPDX-License-Identifier: GPL-3.0-or-later
// One backup run of one VM: choose the level, take the lock, set up checkpoints, export the disks over
// NBD (libvirt pull-mode job, or qemu-nbd for a VM that is off), copy each disk through the shared
// pipeline into the folder, then record the chain. Any failure or cancellation undoes what this run
// made: the job is ended, its checkpoint deleted, its files removed; the chain stays as it was.
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { chainFullFileName, checkpointIndex, checkpointListFileName, checksumFileName, dataFileName, logFileName, partialFileName } from "../format/index.ts";
import { buildCheckpointXml, buildPullBackupXml, parseCheckpointIdentity, type DiskConfig } from "../libvirt/domain-xml.ts";
import { virsh } from "../libvirt/virsh.ts";
import { checkOfflineBitmaps } from "./bitmaps.ts";
import { clearLeftoverCheckpoints, clearOldCheckpoints, clearStaleJob, forget, incrementalProblem, offlineOwnershipProblem, type ChainCare } from "./chain-care.ts";
import { CheckpointRegistry } from "./checkpoint-registry.ts";
import { changedBytesSince, checkpointXml, deleteCheckpoint, listCheckpoints } from "./checkpoints.ts";
import { backupDisk } from "./disk-copy.ts";
import { domainStatus, loadDomain, selectDisks, withFrozenFilesystems } from "./domain.ts";
import { makeCheckpointDir, openRunLog, prepareFolder, qcowInfos, readFolder, removeMadeFolder, saveSidecars, writeFileAtomic } from "./folder.ts";
import { makeJobDirs, qemuOwner, removeJobDirs } from "./job-dir.ts";
import { RunJournal } from "./journal.ts";
import { recoverConsolidation } from "../consolidate/journal.ts";
import { BackupRefusedError, planFallbackFull, planLevel, type LevelPlan } from "./levels.ts";
import { checkpointDescription, descriptionToken } from "./ownership.ts";
import { lockJob } from "./lock.ts";
import { startOfflineExport, type OfflineExport } from "./offline-export.ts";
import { endJob, startPullJob } from "./pull-job.ts";
import { errorMessage, type BackupEvent, type BackupOptions, type BackupResult, type DiskExport } from "./types.ts";

export { errorMessage, type BackupEvent, type BackupOptions, type BackupResult } from "./types.ts";

export async function runBackup(options: BackupOptions): Promise<BackupResult> {
    const started = Date.now();
    const emit = options.onEvent ?? (() => {});
    const uri = options.uri;
    // The folder's real path once it is found trusted (prepareFolder): nothing re-resolves it after.
    let output = path.resolve(options.output);
    const now = options.now ?? new Date();
    const registry = options.registry ?? new CheckpointRegistry();
    checkCancelled(options.signal);
    // One disk failing stops the others: the run fails as a whole.
    const stopAll = new AbortController();
    const onCancel = () => stopAll.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onCancel);

    const { domain, xml: vmConfig, active } = await loadDomain(options.domain, uri);
    const lock = await lockJob(domain.uuid, domain.name);
    // Everything made by this run is journaled first and undone if it fails (or by the next run, if it dies).
    let journal: RunJournal | undefined;
    let jobStarted = false;
    /** The job's end, once asked for: asked once, awaited (and its failure reported) where the run needs it. */
    let ending: Promise<void> | undefined;
    const endTheJob = () => {
        if (!ending && jobStarted) {
            ending = endJob(domain.name, uri).then(() => { jobStarted = false; });
            ending.catch(() => {});
        }
    };
    let createdCheckpoint: string | undefined;
    let records: Promise<Records> | undefined;
    let madeFolder: string | undefined;
    let startedDomain = false;
    let offline: OfflineExport[] = [];
    let log: fs.WriteStream | undefined;
    const note = (e: BackupEvent) => {
        emit(e);
        log?.write(`${new Date().toISOString()} ${JSON.stringify(e)}\n`);
    };

    try {
        ({ folder: output, made: madeFolder } = prepareFolder(output));
        // A consolidation killed in its switch is finished (or its staged files removed) before the chain is read.
        const recovered = recoverConsolidation(output);
        if (recovered)
            emit({ event: "warning", message: recovered === "forward" ? "finished the switch of a consolidation that died" : "removed the files of a consolidation that died" });
        const opened = RunJournal.open(output);
        journal = opened.journal;
        if (opened.rolledBack.length)
            emit({ event: "warning", message: `removed files of a backup run that died: ${opened.rolledBack.join(", ")}` });
        const folder = readFolder(output, domain.name);
        // Asked under the lock, so that no other run of ours changes the job or the checkpoints meanwhile; with
        // them, in the same virsh process, what an incremental on the folder's last checkpoint checks.
        const status = await domainStatus(domain.name, active, uri, likelyParent(options.level, folder.checkpoints));
        let online = status.online;
        await clearStaleJob(domain, status.job, lock.tookOverStale, uri, note);
        removeJobDirs(domain.uuid);  // a dead run's socket and scratch directories
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
        if (options.estimateOnly || options.threshold !== undefined) {
            const changed = await estimateChanges(domain.name, plan, online, status.checkpoints, Boolean(options.estimateOnly), uri);
            if (changed !== undefined && (options.estimateOnly || changed < options.threshold!)) {
                if (!options.estimateOnly)
                    emit({ event: "info", message: `${changed} bytes changed since ${plan.parentCheckpoint} (libvirt's estimate), fewer than the threshold of ${options.threshold}: no backup made` });
                journal.commit();
                removeMadeFolder(output, madeFolder);
                return {
                    domain: domain.name, level: plan.level, checkpoint: "", parent: plan.parentCheckpoint,
                    files: [], disks: [], seconds: (Date.now() - started) / 1000, changedBytes: changed, skipped: true,
                };
            }
        }

        const logPath = path.join(output, logFileName(plan.level, now));
        log = openRunLog(logPath);
        // A full disk must fail the backup through its data writes, not crash the process through the log.
        log.on("error", () => {});
        for (const message of plan.notes)
            note({ event: "info", message });

        const disks = selectDisks(domain, plan.level, options, note);
        const checkpointDir = path.join(output, "checkpoints");
        const chain = folder.checkpoints;
        let fallback = false;
        // libvirt's checkpoints of the VM, asked once and kept up to date by the steps below.
        const present = new Set(startedDomain ? await listCheckpoints(domain.name, uri) : status.checkpoints);
        // A stale job ended above may have changed what was asked beside the status: asked again then.
        const care: ChainCare = { domain, folder: output, checkpointDir, present, registry, uri, note, asked: status.job ? undefined : status.parentAnswers };

        if (!online && plan.parentCheckpoint) {
            // libvirt keeps the checkpoints of a shut-off VM: the parent must be this folder's.
            const foreign = await offlineOwnershipProblem(care, plan.parentCheckpoint);
            if (foreign)
                throw new BackupRefusedError(`${foreign}: the changes since this folder's last backup are not known; start the VM and back it up (the backup will be a full that continues this folder's chain)`);
            // Offline there is no new checkpoint to start a full from: a broken bitmap is an error.
            const qcow2 = disks.filter(d => d.driverType === "qcow2").map(d => ({ target: d.target, path: d.path! }));
            const problems = await checkOfflineBitmaps(qcow2, plan.parentCheckpoint);
            if (problems.length)
                throw new BackupRefusedError(`the changes since ${plan.parentCheckpoint} are not known (${problems.map(p => `${p.disk}: ${p.reason}`).join("; ")}): start the VM and run a full backup`);
        }
        if (online && plan.parentCheckpoint) {
            // Checkpoints past the chain's end first: the folder's dead run's go, anyone else's stop an inc
            // (its new checkpoint's name is taken; a diff makes none).
            const leftover = await clearLeftoverCheckpoints(care, chain, opened.deadCheckpoint);
            const problem = (plan.createCheckpoint ? leftover : undefined) ?? await incrementalProblem(care, chain, plan, disks);
            if (problem) {
                plan = planFallbackFull(folder, problem);
                fallback = true;
                note({ event: "warning", message: plan.notes[0] });
            }
        }
        if (online && plan.level === "full")
            await clearOldCheckpoints(care, opened.deadCheckpoint);
        checkCancelled(options.signal);

        const exports = new Map<string, DiskExport>();
        if (online) {
            const liveXml = startedDomain ? await virsh(["dumpxml", "--domain", domain.name], { uri }) : vmConfig;
            const { socket, scratchDir } = makeJobDirs(domain.uuid, options.scratchDir ?? "/var/tmp", await qemuOwner(liveXml));
            const backupXml = buildPullBackupXml({
                socketPath: socket,
                incremental: plan.parentCheckpoint || null,
                disks: domain.disks.filter(d => d.device === "disk").map(d => {
                    const chosen = disks.some(c => c.target === d.target);
                    return { target: d.target, backup: chosen, scratchFile: chosen ? path.join(scratchDir, `${d.target}.scratch`) : undefined };
                }),
            });
            // The run's token in the checkpoint's description tells the folder's next run that this run made it.
            const token = randomBytes(8).toString("hex");
            const checkpointXml = plan.createCheckpoint
                ? buildCheckpointXml({
                    name: plan.checkpointName,
                    description: checkpointDescription(token),
                    // Raw disks cannot hold bitmaps; they are copied in full each time.
                    disks: domain.disks.filter(d => d.device === "disk")
                            .map(d => ({ target: d.target, checkpoint: d.driverType === "qcow2" && disks.some(c => c.target === d.target) })),
                })
                : undefined;
            if (checkpointXml)
                journal.setCheckpoint({ name: plan.checkpointName, token });
            await withFrozenFilesystems(domain, options.freezeMountpoints, uri, note, async () => {
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
        // What the records need is known from here on (the checkpoint exists once the job started): asked now,
        // two short processes beside the copy, so that the end waits only for the job's end.
        records = fetchRecords(domain.name, disks, createdCheckpoint, uri);
        records.catch(() => {});

        // The job ends as soon as every disk has read its last byte, while the files are still being finished.
        let readersLeft = disks.length;
        const sourceDone = () => {
            if (--readersLeft === 0 && !stopAll.signal.aborted)
                endTheJob();
        };
        const results = await inParallel(disks, options.workers ?? disks.length, async disk => {
            // As the other tool does: raw images (of -t raw, and of raw-format disks, always "copy") keep
            // the .data name; readers tell them from streams by the missing meta frame.
            const level = disk.driverType === "raw" ? "copy" : plan.level;
            const file = path.join(output, fallback ? chainFullFileName(disk.target, plan.ident)
                : dataFileName(disk.target, level, level === "full" || level === "copy" ? undefined : plan.ident));
            journal!.add(file, partialFileName(file), checksumFileName(file));
            return backupDisk(disk, exports.get(disk.target)!, file, plan, { ...options, signal: stopAll.signal }, { now, domainUuid: domain.uuid }, note, sourceDone);
        }, () => stopAll.abort(new Error("another disk failed")));

        // The data is safe; now record it: the sidecars are written while the job ends. Chain files last,
        // and only once the job ended well, so an inc never trusts an unfinished run.
        endTheJob();
        const stopping = Promise.all(offline.map(o => o.stop())).then(() => { offline = []; });
        await settleAll([ending, stopping, records.then(r => saveSidecars(output, domain, plan, vmConfig, r.qcowInfos, journal!))]);
        if (createdCheckpoint) {
            makeCheckpointDir(checkpointDir);
            const xml = (await records).checkpointXml!;
            writeFileAtomic(path.join(checkpointDir, `${createdCheckpoint}.xml`), xml);
            const list = plan.level === "full" && !fallback ? [createdCheckpoint] : [...chain, createdCheckpoint];
            const listFile = path.join(output, checkpointListFileName(domain.name));
            journal.willReplace(listFile);
            writeFileAtomic(listFile, JSON.stringify(list));
            recordCheckpoint(registry, domain.uuid, xml, output, note);
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
        try {
            removeJobDirs(domain.uuid);
        } finally {
            lock.release();
        }
    }

    async function undo() {
        await ending?.catch(() => {});
        await records?.catch(() => {});
        if (jobStarted)
            await endJob(domain.name, uri).catch(e => emit({ event: "warning", message: `could not end the backup job: ${errorMessage(e)}` }));
        await Promise.all(offline.map(o => o.stop().catch(() => {})));
        if (createdCheckpoint) {
            await deleteCheckpoint(domain.name, createdCheckpoint, { uri }).catch(e => emit({ event: "warning", message: `could not delete checkpoint ${createdCheckpoint}: ${errorMessage(e)}` }));
            forget({ domain, registry, note: emit }, [createdCheckpoint]);
        }
        journal?.rollBack();
        removeMadeFolder(output, madeFolder);
    }
}

/**
 * The checkpoint an inc or diff would build on (the chain's last), asked early; none for a full or copy. Only one
 * of our names: the list is checked later (planLevel), and nothing else goes into a virsh command line.
 */
function likelyParent(level: BackupOptions["level"], chain: string[]): string | undefined {
    const last = chain.at(-1);
    return level === "full" || level === "copy" || last === undefined || checkpointIndex(last) === undefined ? undefined : last;
}

/** The host's registry learns the new checkpoint (see checkpoint-registry.ts); failing that is reported, not fatal. */
function recordCheckpoint(registry: CheckpointRegistry, vmUuid: string, xml: string, folder: string, note: (e: BackupEvent) => void) {
    try {
        const { name, creationTime, description } = parseCheckpointIdentity(xml);
        const token = descriptionToken(description);
        registry.record(vmUuid, name, { creationTime, ...(token ? { token } : {}), folder });
    } catch (err) {
        note({ event: "warning", message: `the checkpoint registry was not updated: ${errorMessage(err)}` });
    }
}

/**
 * libvirt's estimate of the bytes changed since the plan's parent checkpoint, or undefined when there is none
 * to give (full/copy, VM off, checkpoint not in libvirt); `required` turns that into a refusal.
 */
async function estimateChanges(domain: string, plan: LevelPlan, online: boolean, present: string[], required: boolean, uri: string | undefined): Promise<number | undefined> {
    const why = !plan.parentCheckpoint
        ? `a ${plan.level} backup copies every allocated byte: only an inc or diff has changes to estimate`
        : !online
            ? `${domain} is not running: libvirt estimates the changes only for a running VM`
            : !present.includes(plan.parentCheckpoint)
                ? `checkpoint ${plan.parentCheckpoint} is not in libvirt: its changes cannot be estimated (the backup redefines it from the folder)`
                : undefined;
    if (why === undefined)
        return changedBytesSince(domain, plan.parentCheckpoint, uri);
    if (required)
        throw new BackupRefusedError(`no estimate: ${why}`);
    return undefined;
}

/** What a run's records need from libvirt and qemu-img; none of it changes when the job ends. */
interface Records {
    qcowInfos: Map<string, string>;
    /** The new checkpoint's definition, saved in checkpoints/ (it exists once the job started). */
    checkpointXml?: string;
}

async function fetchRecords(domain: string, disks: DiskConfig[], checkpoint: string | undefined, uri: string | undefined): Promise<Records> {
    const [infos, xml] = await Promise.all([qcowInfos(disks), checkpoint ? checkpointXml(domain, checkpoint, uri) : undefined]);
    return { qcowInfos: infos, checkpointXml: xml };
}

/** Waits for all (undefined: nothing to wait for), then throws the first failure: undo() starts only once nothing runs. */
async function settleAll(steps: (Promise<unknown> | undefined)[]): Promise<void> {
    const settled = await Promise.allSettled(steps);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed)
        throw failed.reason;
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
