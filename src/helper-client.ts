// SPDX-License-Identifier: GPL-3.0-or-later
// The one place where the UI runs the privileged helper. Each call is one `helper.js <command>`
// run as root through Cockpit's privileged bridge; the helper answers with JSON on stdout, or
// exits non-zero with one human-readable line on stderr.
import cockpit from "./lib/cockpit";
import {
    HelperError, MergeOutput, VerifyOutput, helperFailure, type ProgressLines, parseHistory, parseHostSettings, parseJobLog, parseCancelAnswer, parseCheckFolderAnswer, parseRestoreCheck, parseJobStatus, parsePruneAnswer, parseConsolidateAnswer, parsePointsPreview, parseRestorePoints, parseSettingsAnswer, parseStartAnswer, parseVmList,
} from "./helper-answer";
import { helperArgv } from "./helper-locate";
import { parseBrowseListing, parseBrowseOpened, parseHostRestore, type BrowseListing, type BrowseOpened, type HostRestoreResult } from "./browse-answer";
import { MoveOutput, parseInstantList, parseInstantStarted, type InstantListAnswer, type InstantMovedAnswer, type InstantMoveProgress, type InstantStartedAnswer } from "./instant-answer";
import { pointArgs } from "./point-key";
import type { PointDeleteRequest } from "./app/point-delete";
import type { ListVmsAnswer } from "./vm-types";
import type { HistoryAnswer, HostSettingsAnswer, JobLogAnswer } from "./backup-types";
import type {
    CancelAnswer, CheckFolderAnswer, ConsolidateAnswer, MergeProgress, JobLevel, JobState, NoJob, PruneAnswer, RestoreCheckAnswer, RestorePointList, SettingsAnswer, StartAnswer, VerifyAnswer, VerifyProgress, VmSettings,
} from "./backup-types";

export { HelperError, errorDetail } from "./helper-answer";
export type { HelperErrorKind } from "./helper-answer";

/** Runs the helper as root and resolves with its stdout; rejects with a HelperError. */
function runHelper(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
        cockpit.spawn(helperArgv(args), { superuser: "require", err: "message" })
                .then(resolve, (failure: unknown) => reject(helperFailure(failure)));
    });
}

/** The host's libvirt VMs with their disks (`helper list-vms`). */
export async function listVms(): Promise<ListVmsAnswer> {
    return parseVmList(await runHelper(["list-vms"]));
}

/** A running `helper watch-vms`; close() ends it (the bridge sends it SIGTERM). */
export interface VmWatch {
    close(): void;
}

/**
 * Follows the host's VMs: `onChange` for every lifecycle event (a VM started, stopped, was defined or
 * undefined), `onEnd` once if the watch ends by itself (libvirtd restarted, helper missing). Costs one idle
 * process while the page is open instead of asking again and again.
 */
export function watchVms(onChange: (domain: string) => void, onEnd: (error: HelperError) => void): VmWatch {
    let closed = false;
    let pending = "";
    const proc = cockpit.spawn(helperArgv(["watch-vms"]), { superuser: "require", err: "message" });
    proc.stream(chunk => {
        const lines = (pending + chunk).split("\n");
        pending = lines.pop()!;
        for (const line of lines) {
            try {
                const event: unknown = JSON.parse(line);
                if (typeof event === "object" && event !== null && typeof (event as { domain?: unknown }).domain === "string")
                    onChange((event as { domain: string }).domain);
            } catch {
                // Not a line of ours: ignored, the next event lists again anyway.
            }
        }
    }).then(() => {
        if (!closed)
            onEnd(new HelperError("unexpected", "the VM watch ended"));
    }, (failure: unknown) => {
        if (!closed)
            onEnd(helperFailure(failure));
    });
    return {
        close: () => {
            closed = true;
            proc.close("terminated");
        },
    };
}

/** A VM's backup folder, compression and schedule, and the state file of its jobs (`helper get-settings`). */
export async function getSettings(domain: string): Promise<SettingsAnswer> {
    return parseSettingsAnswer(await runHelper(["get-settings", "--domain", domain]));
}

/**
 * Stores a VM's backup settings (`helper set-settings`); the helper validates the folder and the
 * schedule again, and writes the VM's systemd timer (or its line of the cron file without systemd).
 */
export async function setSettings(domain: string, settings: VmSettings): Promise<SettingsAnswer> {
    const { frequency, weekday, time, randomDelay } = settings.schedule;
    return parseSettingsAnswer(await runHelper([
        "set-settings", "--domain", domain, "--folder", settings.folder, ...(settings.compress ? ["--compress"] : []),
        "--schedule", frequency, "--weekday", String(weekday), "--time", time, "--random-delay", String(randomDelay ?? 0),
        "--keep-chains", settings.keepChains === null ? "all" : String(settings.keepChains),
        "--new-chain", String(settings.newChain),
        ...pointRuleArgs(settings),
    ]));
}

/** What saving `folder` as the VM's backup folder would say: the helper's refusal or warnings (`helper check-folder`). */
export async function checkBackupFolder(domain: string, folder: string): Promise<CheckFolderAnswer> {
    return parseCheckFolderAnswer(await runHelper(["check-folder", "--domain", domain, "--folder", folder]));
}

/** The points rules as set-settings/prune flags ("all": no such rule); rules the settings do not name are left out. */
function pointRuleArgs(rules: Partial<Pick<VmSettings, "keepPoints" | "keepDaily" | "keepWeekly" | "keepMonthly">>): string[] {
    const flags = { keepPoints: "--keep-points", keepDaily: "--keep-daily", keepWeekly: "--keep-weekly", keepMonthly: "--keep-monthly" } as const;
    return Object.entries(flags).flatMap(([key, flag]) => {
        const value = rules[key as keyof typeof flags];
        return value === undefined ? [] : [flag, value === null ? "all" : String(value)];
    });
}

/** What the points rules would merge away in every chain now (a dry run of `helper prune` with only those rules). */
export async function previewPointRules(domain: string, rules: Pick<VmSettings, "keepPoints" | "keepDaily" | "keepWeekly" | "keepMonthly">): Promise<{ dropped: string[]; freed: number; inUse: string[] }> {
    const args = pointRuleArgs(rules).filter((a, i, all) => !(a === "all" || (all[i + 1] === "all")));
    // As the schedule applies them: merges of files in use are left out and named, not refused.
    const answer = parsePointsPreview(await runHelper(["prune", "--domain", domain, ...args, "--skip-in-use"]));
    return {
        dropped: answer.points.flatMap(c => c.dropped.map(p => c.chain ? `${c.chain}/${p}` : p)),
        freed: answer.points.reduce((n, c) => n + c.freed, 0),
        inUse: answer.points.flatMap(c => c.skipped ?? []),
    };
}

/** Starts a backup that runs on without the page (`helper start-backup`); progress is in the state file. */
export async function startBackup(domain: string, level: JobLevel): Promise<StartAnswer> {
    return parseStartAnswer(await runHelper(["start-backup", "--domain", domain, "--level", level]));
}

/** The VM's current or last job (`helper job-status`); also marks a job whose runner died as failed. */
export async function jobStatus(domain: string): Promise<JobState | NoJob> {
    return parseJobStatus(await runHelper(["job-status", "--domain", domain]));
}

/** Cancels the VM's running backup or restore (`helper cancel-job`). */
export async function cancelJob(domain: string): Promise<CancelAnswer> {
    return parseCancelAnswer(await runHelper(["cancel-job", "--domain", domain]));
}

/** The restore points in the VM's backup folder (`helper list-restore-points`). */
export async function listRestorePoints(domain: string): Promise<RestorePointList> {
    return parseRestorePoints(await runHelper(["list-restore-points", "--domain", domain]));
}

/**
 * Runs a helper command that streams JSON lines while the page is open: `output` passes the progress lines on
 * as they arrive and checks the result line at the end.
 */
function streamHelper<P, R>(args: string[], output: ProgressLines<P, R>): Promise<R> {
    return startStream(args, output).result;
}

/** A helper command the page follows: its result, and cancel(), which ends the command's input. */
export interface FollowedRun<R> {
    result: Promise<R>;
    /**
     * Closes the helper's stdin: a command run with --progress takes that as "cancel" (as a mapping takes it
     * as "stop") and still answers, so `result` tells how it ended.
     */
    cancel(): void;
}

function startStream<P, R>(args: string[], output: ProgressLines<P, R>): FollowedRun<R> {
    let proc: ReturnType<typeof cockpit.spawn> | undefined;
    const result = new Promise<R>((resolve, reject) => {
        proc = cockpit.spawn(helperArgv(args), { superuser: "require", err: "message" });
        proc.stream(chunk => {
            try {
                output.push(chunk);
            } catch (err) {
                reject(helperFailure(err));
            }
        }).then(() => {
            try {
                resolve(output.finish());
            } catch (err) {
                reject(helperFailure(err));
            }
        }, (failure: unknown) => reject(helperFailure(failure)));
    });
    // Its input's end ("done" on the channel); the helper's answer still comes.
    return { result, cancel: () => proc?.input() };
}

/**
 * Verifies the files of one restore point's chain against their checksums (`helper verify-restore-point`).
 * Runs while the page is open; `onProgress` follows it file by file.
 */
export function verifyRestorePoint(domain: string, point: string, onProgress: (p: VerifyProgress) => void): Promise<VerifyAnswer> {
    return streamHelper(["verify-restore-point", "--domain", domain, ...pointArgs(point)], new VerifyOutput(onProgress));
}

/**
 * Keeps the last N chains of the VM's backup folder (`helper prune`): without `remove`, only what it would
 * remove and the space that frees.
 */
/** The settings dialog's preview of keep-last-`keep` as the schedule applies it: chains in use are left out, in `skipped`. */
export async function previewChainRule(domain: string, keep: number): Promise<PruneAnswer> {
    return parsePruneAnswer(await runHelper(["prune", "--domain", domain, "--keep", String(keep), "--skip-in-use"]));
}

export async function pruneChains(domain: string, keep: number, remove: boolean): Promise<PruneAnswer> {
    return parsePruneAnswer(await runHelper(["prune", "--domain", domain, "--keep", String(keep), ...(remove ? ["--yes"] : [])]));
}

/** Removes one chain (not the newest) of the VM's backup folder (`helper delete-chain`); without `remove`, a dry run. */
export async function deleteChain(domain: string, chain: string, remove: boolean): Promise<PruneAnswer> {
    return parsePruneAnswer(await runHelper(["delete-chain", "--domain", domain, "--chain", chain, ...(remove ? ["--yes"] : [])]));
}

/**
 * Deletes a restore point by merging it into the next one (`helper consolidate`); without `remove`, a dry run
 * that says which points go and the space that frees.
 */
export async function consolidatePoints(domain: string, request: PointDeleteRequest, remove: boolean): Promise<ConsolidateAnswer> {
    return parseConsolidateAnswer(await runHelper(["consolidate", "--domain", domain, "--chain", request.chain, "--until", request.until,
        ...(request.from ? ["--from", request.from] : []), ...(remove ? ["--yes"] : [])]));
}

/**
 * Deletes a restore point by merging it into the next one (`helper consolidate --yes --progress`): `onProgress`
 * follows the merge; cancel() stops it, the helper then undoes it (the chain stays as it was) and says so.
 */
export function deletePoint(domain: string, request: PointDeleteRequest, onProgress: (p: MergeProgress) => void): FollowedRun<ConsolidateAnswer> {
    return startStream(["consolidate", "--domain", domain, "--chain", request.chain, "--until", request.until,
        ...(request.from ? ["--from", request.from] : []), "--yes", "--progress"], new MergeOutput(onProgress));
}

/** What the page asks to restore: a point of the VM's own backup folder into a target folder. */
export interface RestoreRequest {
    /** The point's key (src/point-key.ts). */
    point: string;
    target: string;
    /** Define a new VM with this name; null restores the disks only. */
    newVmName: string | null;
}

function restoreArgs(command: string, domain: string, req: RestoreRequest): string[] {
    return [command, "--domain", domain, ...pointArgs(req.point), "--target", req.target,
        ...(req.newVmName !== null ? ["--define", "--name", req.newVmName] : [])];
}

/** Everything the helper would refuse about a restore request, per field (`helper check-restore`). */
export async function checkRestore(domain: string, req: RestoreRequest): Promise<RestoreCheckAnswer> {
    return parseRestoreCheck(await runHelper(restoreArgs("check-restore", domain, req)));
}

/** Starts a restore that runs on without the page (`helper start-restore`); progress is in the state file. */
export async function startRestore(domain: string, req: RestoreRequest): Promise<StartAnswer> {
    return parseStartAnswer(await runHelper(restoreArgs("start-restore", domain, req)));
}

/** The VM's job history, newest first (`helper job-history`). */
export async function jobHistory(domain: string): Promise<HistoryAnswer> {
    return parseHistory(await runHelper(["job-history", "--domain", domain]));
}

/** One run's log from the VM's history (`helper job-log`). */
export async function jobLog(domain: string, id: string): Promise<JobLogAnswer> {
    return parseJobLog(await runHelper(["job-log", "--domain", domain, "--id", id]));
}

/** The host-wide settings: how many backup jobs run at once (`helper get-host-settings`). */
export async function getHostSettings(): Promise<HostSettingsAnswer> {
    return parseHostSettings(await runHelper(["get-host-settings"]));
}

/** Stores how many backup jobs run at once (`helper set-host-settings`); answers with what is stored. */
export async function setHostSettings(maxBackupJobs: number): Promise<HostSettingsAnswer> {
    return parseHostSettings(await runHelper(["set-host-settings", "--max-backup-jobs", String(maxBackupJobs)]));
}

/**
 * Maps one disk of a restore point and opens it for browsing (`helper browse-point`): its file systems
 * mounted read-only on the host until browseClose, or until the session is idle for `idleSeconds`.
 */
export async function browsePoint(domain: string, point: string, disk: string, idleSeconds: number): Promise<BrowseOpened> {
    return parseBrowseOpened(await runHelper(["browse-point", "--domain", domain, ...pointArgs(point), "--disk", disk,
        "--idle-seconds", String(idleSeconds)]));
}

/** A folder of a browsed file system (`helper browse-list`). */
export async function browseList(session: string, volume: string, path: string): Promise<BrowseListing> {
    return parseBrowseListing(await runHelper(["browse-list", "--session", session, "--volume", volume, "--path", path]));
}

/** A running `helper browse-hold`; release() ends it, and with it the session. */
export interface BrowseHold {
    release(): void;
}

/**
 * Holds a browse session open while the page shows it (`helper browse-hold`): when the page goes away, the
 * bridge ends the holder and the holder closes the session.
 */
export function browseHold(session: string): BrowseHold {
    const proc = cockpit.spawn(helperArgv(["browse-hold", "--session", session]), { superuser: "require", err: "message" });
    proc.catch(() => undefined);  // ended by release(), or the session was closed otherwise
    return { release: () => proc.close("terminated") };
}

/** Ends a browse session: unmounted, and its mapping stopped (`helper browse-close`). */
export async function browseClose(session: string): Promise<void> {
    await runHelper(["browse-close", "--session", session]);
}

/**
 * The URL that downloads a file (`browse-read`) or a folder as a tar archive (`browse-tar`) of a browsed file
 * system to the user's browser: a Cockpit external channel that streams the helper's stdout as the response.
 */
export function browseDownloadUrl(session: string, volume: string, path: string, what: "file" | "tar", filename: string): string {
    const options = {
        payload: "stream",
        binary: "raw",
        spawn: helperArgv([what === "file" ? "browse-read" : "browse-tar", "--session", session, "--volume", volume, "--path", path]),
        superuser: "require",
        external: {
            // RFC 6266/5987: any name, percent-encoded UTF-8.
            "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`,
            "content-type": what === "file" ? "application/octet-stream" : "application/x-tar",
        },
    };
    const utf8 = new TextEncoder().encode(JSON.stringify(options));
    const query = window.btoa(Array.from(utf8, b => String.fromCharCode(b)).join(""));
    const prefix = new URL(cockpit.transport.uri(`channel/${cockpit.transport.csrf_token}`)).pathname;
    return `${prefix}?${query}`;
}

/**
 * Copies a file or folder of a browsed file system into a host folder, root's (`helper browse-restore`):
 * refused when something of that name is there already.
 */
export async function browseRestore(session: string, volume: string, path: string, hostFolder: string): Promise<HostRestoreResult> {
    return parseHostRestore(await runHelper(["browse-restore", "--session", session, "--volume", volume, "--path", path, "--to", hostFolder]));
}

/** What the page asks to start from a backup: a point of the VM's folder, the new VM's name, the overlays' folder. */
export interface InstantRequest {
    /** The point's key (src/point-key.ts). */
    point: string;
    name: string;
    folder: string;
}

/**
 * Starts a new VM on a restore point's disks (`helper start-from-backup`): qcow2 overlays on the mapped point;
 * answers once the VM runs (seconds), or with the helper's refusal.
 */
export async function startFromBackup(domain: string, req: InstantRequest): Promise<InstantStartedAnswer> {
    return parseInstantStarted(await runHelper(["start-from-backup", "--domain", domain, ...pointArgs(req.point), "--name", req.name, "--folder", req.folder]));
}

/** The VMs started from this VM's backups, with libvirt's state of each (`helper list-instant-vms`). */
export async function listInstantVms(domain: string): Promise<InstantListAnswer> {
    return parseInstantList(await runHelper(["list-instant-vms", "--domain", domain]));
}

/** Removes a started-from-backup VM, its overlays and its mapping (`helper discard-instant-vm`). */
export async function discardInstantVm(name: string): Promise<void> {
    await runHelper(["discard-instant-vm", "--name", name]);
}

/**
 * Move to storage (`helper move-instant-vm`): the VM's disks copied into `folder` while it runs, then it no
 * longer needs the backup. Runs while the page is open; `onProgress` follows it disk by disk.
 */
export function moveInstantVm(name: string, folder: string, onProgress: (p: InstantMoveProgress) => void): Promise<InstantMovedAnswer> {
    return streamHelper(["move-instant-vm", "--name", name, "--folder", folder], new MoveOutput(onProgress));
}
