// SPDX-License-Identifier: GPL-3.0-or-later
// Keeping libvirt's side of the chain trustworthy: stale jobs, forgotten, leftover or other folders'
// checkpoints, bitmaps that can no longer be believed.
import fs from "node:fs";
import path from "node:path";
import { parseCheckpointIdentity, type CheckpointIdentity, type DiskConfig, type DomainConfig } from "../libvirt/domain-xml.ts";
import { LibvirtError } from "../libvirt/virsh.ts";
import { checkBitmaps } from "./bitmaps.ts";
import type { CheckpointRegistry, RegistryEntries } from "./checkpoint-registry.ts";
import { checkpointXml, deleteOurCheckpoints, listCheckpoints, redefineMissing } from "./checkpoints.ts";
import type { ParentAnswers } from "./domain.ts";
import type { JournalCheckpoint } from "./journal.ts";
import { descriptionToken, foreignCheckpointReason, redefineRefusal } from "./ownership.ts";
import { BackupRefusedError, type LevelPlan } from "./levels.ts";
import { checkpointIndex } from "../format/names.ts";
import { isOurSocket } from "./job-dir.ts";
import { backupJob, endJob } from "./pull-job.ts";
import { errorMessage, type Note } from "./types.ts";
import { isOlderSiblingChain } from "../format/chain-folders.ts";

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

/** What the steps below share: the VM, the folder, libvirt's checkpoints and the host's registry. */
export interface ChainCare {
    domain: DomainConfig;
    /** The backup folder (resolved), whose chain the registry names, and its checkpoints/ directory. */
    folder: string;
    checkpointDir: string;
    /** libvirt's checkpoints of the VM; the steps keep it up to date. */
    present: Set<string>;
    registry: CheckpointRegistry;
    uri: string | undefined;
    note: Note;
    /** The parent checkpoint's answers asked with the domain's status (domainStatus); dropped once a step changes libvirt's checkpoints. */
    asked?: ParentAnswers;
}

/** The identity of the folder's saved definition of a checkpoint, or undefined when it has none (or an unreadable one). */
export function savedIdentity(checkpointDir: string, name: string): CheckpointIdentity | undefined {
    try {
        return parseCheckpointIdentity(fs.readFileSync(path.join(checkpointDir, `${name}.xml`), "utf8"));
    } catch {
        return undefined;
    }
}

/**
 * Why an inc/diff of a running VM cannot build on the chain's last checkpoint, or undefined when it can.
 * Checkpoints libvirt forgot are redefined from the folder first (VM re-defined, host moved), unless the
 * registry knows a later checkpoint of the same name. Then libvirt's parent checkpoint must be the one the
 * folder saved (another folder of the VM may have made one of that name), and its bitmaps intact.
 */
export async function incrementalProblem(care: ChainCare, chain: string[], plan: LevelPlan, disks: DiskConfig[]): Promise<string | undefined> {
    const { domain, checkpointDir, present, uri, note } = care;
    // Only the part of the chain since its last full has saved definitions (a full clears older ones).
    const first = chain.findIndex(name => fs.existsSync(path.join(checkpointDir, `${name}.xml`)));
    try {
        const known = first < 0 || chain.slice(first).every(n => present.has(n)) ? {} : care.registry.read(domain.uuid);
        const redefined = first < 0 ? [] : await redefineMissing(domain.name, chain.slice(first), checkpointDir, present, uri,
                                                                 saved => redefineRefusal(saved, known[saved.name]));
        if (redefined.length) {
            care.asked = undefined;
            note({ event: "info", message: `redefined checkpoints from the backup folder: ${redefined.join(", ")}` });
        }
    } catch (err) {
        return `the checkpoint chain cannot be restored in libvirt (${errorMessage(err)})`;
    }
    if (!present.has(plan.parentCheckpoint))
        return `checkpoint ${plan.parentCheckpoint} is gone from libvirt and the folder has no definition of it`;
    const qcow2 = disks.filter(d => d.driverType === "qcow2").map(d => ({ target: d.target, path: d.path! }));
    // Mostly asked already, with the domain's status; what is missing is asked now, in parallel.
    const asked = care.asked?.parent === plan.parentCheckpoint ? care.asked : undefined;
    const [libvirtXml, problems] = await Promise.all([
        asked?.checkpointXml ?? checkpointXml(domain.name, plan.parentCheckpoint, uri),
        checkBitmaps(domain.name, qcow2, plan.parentCheckpoint, uri, asked?.blockNodes),
    ]);
    const foreign = foreignCheckpointReason(parseCheckpointIdentity(libvirtXml), savedIdentity(checkpointDir, plan.parentCheckpoint), domain.uuid);
    if (foreign)
        return foreign;
    if (problems.length)
        return `the changes since ${plan.parentCheckpoint} are not known: ${problems.map(p => `${p.disk}: ${p.reason}`).join("; ")}`;
    return undefined;
}

/**
 * Why a diff of a shut-off VM cannot build on the chain's last checkpoint (libvirt keeps the checkpoints of
 * a shut-off VM): libvirt's must be the folder's; where libvirt has none, the registry must not know a later
 * one of that name (its bitmap would be taken for the folder's).
 */
export async function offlineOwnershipProblem(care: ChainCare, parent: string): Promise<string | undefined> {
    const { domain, uri } = care;
    const saved = savedIdentity(care.checkpointDir, parent);
    let libvirtXml: string | undefined;
    try {
        libvirtXml = await checkpointXml(domain.name, parent, uri);
    } catch (err) {
        if (!(err instanceof LibvirtError && err.code === "no-checkpoint"))
            throw err;
    }
    if (libvirtXml !== undefined)
        return foreignCheckpointReason(parseCheckpointIdentity(libvirtXml), saved, domain.uuid);
    if (!saved)
        return `this folder has no saved definition of checkpoint ${parent} (checkpoints/${parent}.xml) and libvirt has none either`;
    return redefineRefusal(saved, care.registry.read(domain.uuid)[parent]);
}

/** Whether libvirt's checkpoint `name` carries the token of the dead run that was creating it. */
async function madeByDeadRun(care: ChainCare, name: string, dead: JournalCheckpoint | undefined): Promise<boolean> {
    if (!dead || dead.name !== name)
        return false;
    const identity = parseCheckpointIdentity(await checkpointXml(care.domain.name, name, care.uri));
    return descriptionToken(identity.description) === dead.token;
}

/** Names grouped by the folder the registry says they belong to ("" when it does not know). */
function byFolder(names: string[], entries: RegistryEntries): Map<string, string[]> {
    const groups = new Map<string, string[]>();
    for (const n of names) {
        const folder = entries[n]?.folder ?? "";
        groups.set(folder, [...(groups.get(folder) ?? []), n]);
    }
    return groups;
}

/** "virtnbdbackup.1 (of the backups in /b)", for messages. */
function describeOwners(names: string[], entries: RegistryEntries): string {
    return [...byFolder(names, entries)].map(([folder, group]) =>
        `${group.join(", ")} (${folder ? `of the backups in ${folder}` : "of another backup folder or tool"})`).join("; ");
}

async function deleteAndForget(care: ChainCare, names: string[], opts: { metadataOnly?: boolean } = {}) {
    care.asked = undefined;  // a deleted checkpoint's bitmap is merged into its parent's
    await deleteOurCheckpoints(care.domain.name, names, { uri: care.uri, ...opts });
    for (const n of names)
        care.present.delete(n);
    forget(care, names);
}

/** Deleted checkpoints leave the registry; a registry that cannot be written is reported, not fatal. */
export function forget(care: Pick<ChainCare, "domain" | "registry" | "note">, names: string[]) {
    try {
        care.registry.forget(care.domain.uuid, names);
    } catch (err) {
        care.note({ event: "warning", message: `the checkpoint registry was not updated: ${errorMessage(err)}` });
    }
}

/**
 * Checkpoints past the chain's end: the one the folder's dead run was creating (its journal names it and its
 * description carries the run's token) is deleted. Any other belongs to someone else and is not deleted here:
 * returned as the reason the run cannot make an incremental.
 */
export async function clearLeftoverCheckpoints(care: ChainCare, chain: string[], dead: JournalCheckpoint | undefined): Promise<string | undefined> {
    const leftovers = [...care.present].filter(n => (checkpointIndex(n) ?? -1) >= chain.length);
    const failed: string[] = [];
    const others: string[] = [];
    for (const n of leftovers)
        (await madeByDeadRun(care, n, dead) ? failed : others).push(n);
    if (failed.length) {
        care.note({ event: "warning", message: `deleting checkpoints a failed run left: ${failed.join(", ")}` });
        await deleteAndForget(care, failed);
    }
    if (others.length)
        return `libvirt has checkpoints past this folder's chain end that this folder did not make: ${describeOwners(others, care.registry.read(care.domain.uuid))}`;
    return undefined;
}

/**
 * A full backup starts a chain (or a new part of one) named virtnbdbackup.N: every other checkpoint of ours
 * goes (names collide; foreign ones stay), with the folder's saved definitions. Never silently: checkpoints of
 * another folder's chain are named with that folder, whose next backup becomes a full that continues its chain.
 */
export async function clearOldCheckpoints(care: ChainCare, dead: JournalCheckpoint | undefined) {
    const { domain, present, uri, note } = care;
    const ours = [...present].filter(n => checkpointIndex(n) !== undefined);
    if (ours.length) {
        const entries = care.registry.read(domain.uuid);
        const failed = dead && ours.includes(dead.name) && await madeByDeadRun(care, dead.name, dead) ? [dead.name] : [];
        const own: string[] = [];
        for (const n of ours.filter(n => !failed.includes(n))) {
            // The registry knows our runs' checkpoints; one it does not (made before it existed, or by the
            // Python tool) is the folder's own when it is the one the folder saved.
            const saved = entries[n] ? undefined : savedIdentity(care.checkpointDir, n);
            if (entries[n]?.folder === care.folder
                || (saved && !foreignCheckpointReason(parseCheckpointIdentity(await checkpointXml(domain.name, n, uri)), saved, domain.uuid)))
                own.push(n);
        }
        const others = ours.filter(n => !failed.includes(n) && !own.includes(n));
        if (own.length)
            note({ event: "info", message: `removing this folder's earlier checkpoints: ${own.join(", ")}` });
        if (failed.length)
            note({ event: "warning", message: `deleting checkpoints a failed run left: ${failed.join(", ")}` });
        for (const [folder, group] of byFolder(others, entries)) {
            // An older chain of the same VM folder (<vm>/chain-N): a new chain replacing it is what was asked for.
            if (folder && isOlderSiblingChain(care.folder, folder)) {
                note({ event: "info", message: `new chain: the earlier chain in ${folder} ends here (its checkpoints ${group.join(", ")} are removed from libvirt; its restore points stay restorable)` });
                continue;
            }
            note({ event: "warning", message: folder
                ? `deleting checkpoints ${group.join(", ")} of the backups in ${folder} (their names collide with this chain's): the next backup there will be a full that continues its chain`
                : `deleting checkpoints ${group.join(", ")}, made by another backup folder or tool (their names collide with this chain's): an incremental backup on them is no longer possible` });
        }
        try {
            await deleteAndForget(care, ours);
        } catch {
            // Bitmaps that are broken or gone cannot be merged: drop the metadata only.
            const left = (await listCheckpoints(domain.name, uri)).filter(n => checkpointIndex(n) !== undefined);
            await deleteAndForget(care, left, { metadataOnly: true });
            for (const n of ours)
                present.delete(n);
        }
    }
    fs.rmSync(care.checkpointDir, { recursive: true, force: true });
}
