// SPDX-License-Identifier: GPL-3.0-or-later
// The second phase of a backup run: which backup this run makes. The VM's state and job are asked under
// the lock (a job a dead run of ours left is ended), a shut-off VM is started paused when asked (-S, for a
// full), the level is planned from the folder's chain, and an estimate (-p, -T) may end the run here with
// nothing made. A VM this run started is destroyed again however the run ends.
import { checkpointIndex } from "../format/names.ts";
import { virsh } from "../libvirt/virsh.ts";
import { clearStaleJob } from "./chain-care.ts";
import { changedBytesSince } from "./checkpoints.ts";
import { domainStatus, type DomainStatus } from "./domain.ts";
import { removeJobDirs } from "./job-dir.ts";
import { BackupRefusedError, planLevel, type LevelPlan } from "./levels.ts";
import type { BackupRun, OpenFolder } from "./run-context.ts";
import type { BackupOptions } from "./types.ts";

export interface LevelChoice {
    plan: LevelPlan;
    online: boolean;
    status: DomainStatus;
    /** This run started the VM (paused): it is destroyed when the run ends. */
    startedDomain: boolean;
    /** An estimate ended the run: no backup is made (libvirt's estimate of the changed bytes, when asked). */
    skip?: { changedBytes: number | undefined };
}

export async function chooseLevel(run: BackupRun, folder: OpenFolder): Promise<LevelChoice> {
    const { domain, options, uri } = run;
    // Asked under the lock, so that no other run of ours changes the job or the checkpoints meanwhile; with
    // them, in the same virsh process, what an incremental on the folder's last checkpoint checks.
    const status = await domainStatus(domain.name, run.active, uri, likelyParent(options.level, folder.state.checkpoints));
    let online = status.online;
    await clearStaleJob(domain, status.job, run.lock.tookOverStale, uri, run.note);
    removeJobDirs(domain.uuid);  // a dead run's socket and scratch directories
    let startedDomain = false;
    if (!online && options.startDomain && (options.level === "full" || (options.level === "auto" && !folder.state.hasData))) {
        await virsh(["start", "--domain", domain.name, "--paused"], { uri });
        run.undo.always(() => virsh(["destroy", "--domain", domain.name], { uri }).then(() => {}, () => {}));
        startedDomain = true;
        online = true;
        run.note({ event: "info", message: `started ${domain.name} paused for the backup` });
    }
    const plan = planLevel(options.level, folder.state, { online, now: run.now });
    if (options.type === "raw" && (plan.level === "inc" || plan.level === "diff"))
        throw new BackupRefusedError("raw output holds only full or copy backups: use the stream format for inc/diff");
    const choice: LevelChoice = { plan, online, status, startedDomain };
    if (options.estimateOnly || options.threshold !== undefined) {
        const changed = await estimateChanges(domain.name, plan, online, status.checkpoints, Boolean(options.estimateOnly), uri);
        if (changed !== undefined && (options.estimateOnly || changed < options.threshold!)) {
            if (!options.estimateOnly)
                run.emit({ event: "info", message: `${changed} bytes changed since ${plan.parentCheckpoint} (libvirt's estimate), fewer than the threshold of ${options.threshold}: no backup made` });
            choice.skip = { changedBytes: changed };
        }
    }
    return choice;
}

/**
 * The checkpoint an inc or diff would build on (the chain's last), asked early; none for a full or copy. Only one
 * of our names: the list is checked later (planLevel), and nothing else goes into a virsh command line.
 */
function likelyParent(level: BackupOptions["level"], chain: string[]): string | undefined {
    const last = chain.at(-1);
    return level === "full" || level === "copy" || last === undefined || checkpointIndex(last) === undefined ? undefined : last;
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
