// SPDX-License-Identifier: GPL-3.0-or-later
// The third phase of a backup run: can the planned level build on libvirt's side of the chain? The disks
// are chosen; offline, the parent checkpoint must be this folder's and its bitmaps sound (else refused);
// online, checkpoints past the chain's end are cleared and an inc whose parent cannot be trusted falls back
// to a full that continues the chain; a full clears the chain's old checkpoints. Nothing here is undone:
// what it changes in libvirt (leftover checkpoints deleted, missing ones redefined) is what any run would.
import path from "node:path";
import type { DiskConfig } from "../libvirt/domain-xml.ts";
import { checkOfflineBitmaps } from "./bitmaps.ts";
import { clearLeftoverCheckpoints, clearOldCheckpoints, incrementalProblem, offlineOwnershipProblem, type ChainCare } from "./chain-care.ts";
import { listCheckpoints } from "./checkpoints.ts";
import { selectDisks } from "./domain.ts";
import { BackupRefusedError, planFallbackFull, type LevelPlan } from "./levels.ts";
import type { LevelChoice } from "./level-choice.ts";
import type { BackupRun, OpenFolder } from "./run-context.ts";

export interface CheckedPlan {
    /** The plan, a fallback full when the inc could not build on its parent. */
    plan: LevelPlan;
    /** A full made inside an existing chain (its files are named by its checkpoint). */
    fallback: boolean;
    disks: DiskConfig[];
    /** The folder's checkpoints/ directory. */
    checkpointDir: string;
}

export async function checkChain(run: BackupRun, folder: OpenFolder, choice: LevelChoice): Promise<CheckedPlan> {
    const { domain, uri, note } = run;
    const { online, status } = choice;
    let plan = choice.plan;
    const disks = selectDisks(domain, plan.level, run.options, note);
    const checkpointDir = path.join(folder.output, "checkpoints");
    const chain = folder.state.checkpoints;
    let fallback = false;
    // libvirt's checkpoints of the VM, asked once and kept up to date by the steps below.
    const present = new Set(choice.startedDomain ? await listCheckpoints(domain.name, uri) : status.checkpoints);
    // A stale job ended before may have changed what was asked beside the status: asked again then.
    const care: ChainCare = { domain, folder: folder.output, checkpointDir, present, registry: run.registry, uri, note, asked: status.job ? undefined : status.parentAnswers };

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
        const leftover = await clearLeftoverCheckpoints(care, chain, folder.deadCheckpoint);
        const problem = (plan.createCheckpoint ? leftover : undefined) ?? await incrementalProblem(care, chain, plan, disks);
        if (problem) {
            plan = planFallbackFull(folder.state, problem);
            fallback = true;
            note({ event: "warning", message: plan.notes[0] });
        }
    }
    if (online && plan.level === "full")
        await clearOldCheckpoints(care, folder.deadCheckpoint);
    return { plan, fallback, disks, checkpointDir };
}
