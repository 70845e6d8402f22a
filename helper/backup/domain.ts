// SPDX-License-Identifier: GPL-3.0-or-later
// The VM side of a run: its definition and state, which disks to back up, frozen guest filesystems.
import { parseDomainXml, type DiskConfig, type DomainConfig } from "../libvirt/domain-xml.ts";
import { virsh, virshBatch } from "../libvirt/virsh.ts";
import { fetchDefinition } from "./definition.ts";
import { blockNodesArgs, parseBlockNodes, type BlockNode } from "./bitmaps.ts";
import { checkpointListArgs, checkpointXmlArgs, listCheckpoints, parseCheckpointList } from "./checkpoints.ts";
import { BackupRefusedError, type Level } from "./levels.ts";
import { jobInfoArgs, parseJobInfo, runningJob } from "./pull-job.ts";
import { errorMessage, type BackupOptions, type Note } from "./types.ts";

/**
 * The domain's definition parsed and as text (`definition`: its text when already asked for).
 * `active`: the definition is that of a running or paused QEMU (libvirt gives it an id).
 */
export async function loadDomain(name: string, uri?: string, definition = fetchDefinition(name, uri)): Promise<{ domain: DomainConfig; xml: string; active: boolean }> {
    const xml = await definition;
    const root = /<domain\b[^>]*>/.exec(xml)?.[0] ?? "";
    return { domain: parseDomainXml(xml), xml, active: /\sid=["']\d+["']/.test(root) };
}

/** What a run needs to know of the domain once it holds the lock. */
export interface DomainStatus {
    /** It has a QEMU process (running, paused, ...): libvirt can run a backup job on it. */
    online: boolean;
    /** The operation of its running job ("Backup", ...), if any; only asked when online. */
    job?: string;
    /** Its checkpoints in libvirt, oldest first; only asked when online. */
    checkpoints: string[];
    /** Asked beside, when a parent was named and the domain is online: what an incremental's checks need. */
    parentAnswers?: ParentAnswers;
}

/** libvirt's definition of the parent checkpoint and QEMU's block nodes, each when the answer came. */
export interface ParentAnswers {
    parent: string;
    checkpointXml?: string;
    blockNodes?: BlockNode[];
}

/**
 * Whether the domain is online, and if so its running job and its checkpoints, plus, when `parent` is named
 * (the checkpoint an incremental would build on), that checkpoint's definition and QEMU's block nodes: all
 * in one virsh process. A domain that was active at `loadDomain` has a QEMU process, so libvirt can run a
 * backup job on it: it is taken as online without asking its state (running or paused; also crashed or
 * pmsuspended, where an offline export could not open the images QEMU holds). The state is asked only
 * for a domain that was not active, or stopped since.
 */
export async function domainStatus(name: string, active: boolean, uri?: string, parent?: string): Promise<DomainStatus> {
    const askOnline = async (): Promise<DomainStatus> => ({ online: true, ...await askJobAndCheckpoints(name, uri, parent) });
    const offline: DomainStatus = { online: false, checkpoints: [] };
    if (active) {
        try {
            return await askOnline();
        } catch (err) {
            if (await runningOrPaused(name, uri))
                throw err;
            return offline;
        }
    }
    return await runningOrPaused(name, uri) ? askOnline() : offline;
}

/**
 * The questions of an online domain in one virsh run (one process, one connection). Each answer is known by
 * its content; a command of the batch that failed printed nothing, and is asked again on its own, which
 * gives its error as before (or its answer). A parent's answers that did not come are left to the checks.
 */
async function askJobAndCheckpoints(name: string, uri: string | undefined, parent: string | undefined): Promise<Omit<DomainStatus, "online">> {
    const commands = [jobInfoArgs(name), checkpointListArgs(name), ...(parent ? [checkpointXmlArgs(name, parent), blockNodesArgs(name)] : [])];
    const { outputs, stderr } = await virshBatch(commands, { uri });
    const job = parseJobInfo(outputs[0] ?? "");
    // No checkpoints print nothing, as a failed list does: an empty list counts only when nothing failed.
    const listed = outputs[1] !== "" || stderr.trim() === "" ? parseCheckpointList(outputs[1] ?? "") : undefined;
    const [jobNow, checkpoints] = await Promise.all([
        job === null ? runningJob(name, uri) : job,
        listed ?? listCheckpoints(name, uri),
    ]);
    const status: Omit<DomainStatus, "online"> = { job: jobNow, checkpoints };
    if (parent) {
        const xml = outputs[2] ?? "";
        status.parentAnswers = {
            parent,
            checkpointXml: /^\s*<domaincheckpoint[\s>]/.test(xml) ? xml : undefined,
            blockNodes: parseBlockNodes(outputs[3] ?? ""),
        };
    }
    return status;
}

async function runningOrPaused(name: string, uri?: string): Promise<boolean> {
    const state = (await virsh(["domstate", "--domain", name], { uri })).trim();
    return state === "running" || state === "paused";
}

export function selectDisks(domain: DomainConfig, level: Level, options: BackupOptions, note: Note): DiskConfig[] {
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

export async function withFrozenFilesystems(domain: DomainConfig, mountpoints: string[] | undefined, uri: string | undefined, note: Note, fn: () => Promise<void>) {
    if (mountpoints && mountpoints.length === 0)
        return fn();
    if (!domain.guestAgent) {
        note({ event: "warning", message: `${domain.name} has no QEMU guest agent channel: filesystems are not frozen, the backup is crash-consistent` });
        return fn();
    }
    let frozen = false;
    try {
        const args = ["domfsfreeze", "--domain", domain.name, ...(mountpoints ?? []).flatMap(m => ["--mountpoint", m])];
        const out = await virsh(args, { uri, timeoutMs: 30_000 });
        frozen = true;
        const count = /(\d+)/.exec(out)?.[1];
        note({ event: "info", message: `froze ${count ?? "the"} guest filesystem(s) through the QEMU guest agent` });
    } catch (err) {
        note({ event: "warning", message: `guest filesystems not frozen (is the guest agent running?): the backup is crash-consistent. ${errorMessage(err)}` });
    }
    try {
        await fn();
    } finally {
        if (frozen) {
            await virsh(["domfsthaw", "--domain", domain.name], { uri })
                    .then(() => note({ event: "info", message: "thawed the guest filesystems" }),
                        e => note({ event: "warning", message: `thawing guest filesystems failed: ${errorMessage(e)}` }));
        }
    }
}
