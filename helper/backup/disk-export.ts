// SPDX-License-Identifier: GPL-3.0-or-later
// The fourth phase of a backup run: the chosen disks exported over NBD. A running VM gets libvirt's
// pull-mode backup job (with the run's new checkpoint, journaled before the job creates it), a shut-off one
// a read-only qemu-nbd per disk. Undo: the job ended (then its checkpoint deleted), the exports stopped.
import path from "node:path";
import { randomBytes } from "node:crypto";
import { buildCheckpointXml, buildPullBackupXml } from "../libvirt/domain-xml.ts";
import { virsh } from "../libvirt/virsh.ts";
import { forget } from "./chain-care.ts";
import type { CheckedPlan } from "./chain-check.ts";
import { deleteCheckpoint } from "./checkpoints.ts";
import { withFrozenFilesystems } from "./domain.ts";
import { makeJobDirs, qemuOwner } from "./job-dir.ts";
import type { LevelChoice } from "./level-choice.ts";
import { startOfflineExport, type OfflineExport } from "./offline-export.ts";
import { checkpointDescription } from "./ownership.ts";
import { endJob, startPullJob } from "./pull-job.ts";
import type { BackupRun, OpenFolder } from "./run-context.ts";
import { errorMessage, type DiskExport } from "./types.ts";

/** The disks as NBD exports, until end(). */
export interface ExportedDisks {
    byTarget: Map<string, DiskExport>;
    /** The checkpoint the job created, until keepCheckpoint(). */
    createdCheckpoint: string | undefined;
    /** Every disk has read its last byte: a job ends now, while the files are still being finished. */
    readingDone(): void;
    /** Ends the job or stops the exports (asked once; a failure leaves the undo to try again). */
    end(): Promise<void>;
    /** The checkpoint is recorded in the folder: it stays when the run fails after this. */
    keepCheckpoint(): void;
}

export async function exportDisks(run: BackupRun, folder: OpenFolder, choice: LevelChoice, checked: CheckedPlan): Promise<ExportedDisks> {
    return choice.online ? startJob(run, folder, choice, checked) : startQemuNbd(run, checked);
}

async function startJob(run: BackupRun, folder: OpenFolder, choice: LevelChoice, { plan, disks }: CheckedPlan): Promise<ExportedDisks> {
    const { domain, uri, options } = run;
    const liveXml = choice.startedDomain ? await virsh(["dumpxml", "--domain", domain.name], { uri }) : run.vmConfig;
    const { socket, scratchDir } = makeJobDirs(domain.uuid, options.scratchDir ?? "/var/tmp", await qemuOwner(liveXml));
    const chosen = (target: string) => disks.some(c => c.target === target);
    const backupXml = buildPullBackupXml({
        socketPath: socket,
        incremental: plan.parentCheckpoint || null,
        disks: domain.disks.filter(d => d.device === "disk").map(d => ({
            target: d.target, backup: chosen(d.target), scratchFile: chosen(d.target) ? path.join(scratchDir, `${d.target}.scratch`) : undefined,
        })),
    });
    // The run's token in the checkpoint's description tells the folder's next run that this run made it.
    const token = randomBytes(8).toString("hex");
    const checkpointXml = plan.createCheckpoint
        ? buildCheckpointXml({
            name: plan.checkpointName,
            description: checkpointDescription(token),
            // Raw disks cannot hold bitmaps; they are copied in full each time.
            disks: domain.disks.filter(d => d.device === "disk").map(d => ({ target: d.target, checkpoint: d.driverType === "qcow2" && chosen(d.target) })),
        })
        : undefined;
    if (checkpointXml)
        folder.journal.setCheckpoint({ name: plan.checkpointName, token });

    let createdCheckpoint: string | undefined;
    let dropCheckpointUndo = () => {};
    let running = false;
    /** The job's end, once asked for: asked once, awaited (and its failure reported) where the run needs it. */
    let ending: Promise<void> | undefined;
    await withFrozenFilesystems(domain, options.freezeMountpoints, uri, run.note, async () => {
        await startPullJob({ domain: domain.name, uri, backupXml, checkpointXml });
        // Unwound newest first: the job ends before its checkpoint is deleted.
        if (checkpointXml) {
            createdCheckpoint = plan.checkpointName;
            const name = createdCheckpoint;
            dropCheckpointUndo = run.undo.onFailure(async () => {
                await deleteCheckpoint(domain.name, name, { uri }).catch(e => run.emit({ event: "warning", message: `could not delete checkpoint ${name}: ${errorMessage(e)}` }));
                forget({ domain, registry: run.registry, note: run.emit }, [name]);
            });
        }
        running = true;
        run.undo.onFailure(async () => {
            await ending?.catch(() => {});
            if (running)
                await endJob(domain.name, uri).catch(e => run.emit({ event: "warning", message: `could not end the backup job: ${errorMessage(e)}` }));
        });
    });
    const end = () => {
        if (!ending) {
            ending = endJob(domain.name, uri).then(() => { running = false; });
            ending.catch(() => {});
        }
        return ending;
    };
    return {
        byTarget: new Map(disks.map(d => [d.target, { socket, exportName: d.target, dirtyContext: plan.parentCheckpoint ? `qemu:dirty-bitmap:backup-${d.target}` : undefined }])),
        get createdCheckpoint() { return createdCheckpoint; },
        readingDone: () => void end(),
        end,
        keepCheckpoint() {
            dropCheckpointUndo();
            createdCheckpoint = undefined;
        },
    };
}

async function startQemuNbd(run: BackupRun, { plan, disks }: CheckedPlan): Promise<ExportedDisks> {
    // Each export is stopped on failure from the moment it runs (also when another disk's fails to start).
    let running: OfflineExport[] = [];
    run.undo.onFailure(() => Promise.all(running.map(o => o.stop().catch(() => {}))).then(() => {}));
    const started = await Promise.allSettled(disks.map(async d => {
        const e = await startOfflineExport({
            image: d.path!, format: d.driverType ?? "raw", exportName: d.target,
            bitmap: plan.parentCheckpoint && d.driverType === "qcow2" ? plan.parentCheckpoint : undefined,
        });
        running.push(e);
        return e;
    }));
    const exports = started.map(r => {
        if (r.status === "rejected")
            throw r.reason;
        return r.value;
    });
    return {
        byTarget: new Map(disks.map((d, i) => [d.target, {
            socket: exports[i].socket, exportName: d.target,
            dirtyContext: plan.parentCheckpoint && d.driverType === "qcow2" ? `qemu:dirty-bitmap:${plan.parentCheckpoint}` : undefined,
        }])),
        createdCheckpoint: undefined,
        // qemu-nbd serves until stopped: nothing to end early.
        readingDone: () => {},
        end: () => Promise.all(running.map(o => o.stop())).then(() => { running = []; }),
        keepCheckpoint: () => {},
    };
}
