// Keeping libvirt's side of the chain trustworthy: stale jobs, forgotten or leftover checkpoints,
// bitmaps that can no longer be believed.
import fs from "node:fs";
import path from "node:path";
import type { DiskConfig, DomainConfig } from "../libvirt/domain-xml.ts";
import { checkBitmaps } from "./bitmaps.ts";
import { deleteOurCheckpoints, listCheckpoints, redefineMissing } from "./checkpoints.ts";
import { BackupRefusedError, checkpointIndex, type LevelPlan } from "./levels.ts";
import { isOurSocket } from "./job-dir.ts";
import { backupJob, endJob } from "./pull-job.ts";
import { errorMessage, type Note } from "./types.ts";

/**
 * A backup job this project started (its NBD socket is in our job directory) is left by a run that died
 * or is still being torn down: we hold the VM's lock, so no run of ours uses it; it is ended. Any other
 * job (another tool's backup, a migration) is not ours to touch. `job` is the domain's running job
 * (runningJob), asked after taking the lock; `stale`: the lock's previous owner died holding it.
 */
export async function clearStaleJob(domain: DomainConfig, job: string | undefined, stale: boolean, uri: string | undefined, note: Note) {
    if (!job)
        return;
    if (job !== "Backup")
        throw new BackupRefusedError(`${domain.name} already has a running ${job.toLowerCase()} job (see: virsh domjobinfo ${domain.name})`);
    const running = await backupJob(domain.name, uri);
    if (!running)
        return;  // ended meanwhile
    const socket = running.socket;
    if (socket === undefined || !isOurSocket(socket)) {
        throw new BackupRefusedError(`another backup job is running on ${domain.name}, not started by this tool` +
            `${socket ? ` (its NBD socket: ${socket})` : ""}: left alone (see: virsh domjobinfo ${domain.name}; virtnbdbackup -k ends it)`);
    }
    note({ event: "warning", message: stale ? `ending the backup job a killed run left on ${domain.name}` : `ending the backup job a previous run left on ${domain.name}` });
    await endJob(domain.name, uri);
}

/**
 * Why an inc/diff cannot build on the chain's last checkpoint, or undefined when it can. Checkpoints
 * libvirt forgot are redefined from the folder first (VM re-defined, host moved).
 */
export async function incrementalProblem(domain: DomainConfig, chain: string[], present: Set<string>, checkpointDir: string, plan: LevelPlan, disks: DiskConfig[], uri: string | undefined, note: Note): Promise<string | undefined> {
    // Only the part of the chain since its last full has saved definitions (a full clears older ones).
    const first = chain.findIndex(name => fs.existsSync(path.join(checkpointDir, `${name}.xml`)));
    try {
        const redefined = first < 0 ? [] : await redefineMissing(domain.name, chain.slice(first), checkpointDir, present, uri);
        if (redefined.length)
            note({ event: "info", message: `redefined checkpoints from the backup folder: ${redefined.join(", ")}` });
    } catch (err) {
        return `the checkpoint chain cannot be restored in libvirt (${errorMessage(err)})`;
    }
    if (!present.has(plan.parentCheckpoint))
        return `checkpoint ${plan.parentCheckpoint} is gone from libvirt and the folder has no definition of it`;
    const qcow2 = disks.filter(d => d.driverType === "qcow2").map(d => ({ target: d.target, path: d.path! }));
    const problems = await checkBitmaps(domain.name, qcow2, plan.parentCheckpoint, uri);
    if (problems.length)
        return `the changes since ${plan.parentCheckpoint} are not known: ${problems.map(p => `${p.disk}: ${p.reason}`).join("; ")}`;
    return undefined;
}

/** Checkpoints past the chain's end were made by a run that died before recording them. */
export async function clearLeftoverCheckpoints(domain: DomainConfig, chain: string[], present: Set<string>, uri: string | undefined, note: Note) {
    const leftovers = [...present].filter(n => (checkpointIndex(n) ?? -1) >= chain.length);
    if (leftovers.length) {
        note({ event: "warning", message: `deleting checkpoints a failed run left: ${leftovers.join(", ")}` });
        await deleteOurCheckpoints(domain.name, leftovers, { uri });
    }
}

/** A full backup starts a new chain: our old checkpoints go (foreign ones stay), with their saved definitions. */
export async function clearOldCheckpoints(domain: DomainConfig, checkpointDir: string, present: Set<string>, uri: string | undefined, note: Note) {
    const ours = [...present].filter(n => checkpointIndex(n) !== undefined);
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
