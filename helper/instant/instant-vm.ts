// SPDX-License-Identifier: GPL-3.0-or-later
// Start from backup: a new VM, defined from a restore point's saved config under a new name, whose disks
// are qcow2 overlays on the point's disks mapped read-only over NBD (helper/map/map-point.ts). It runs
// within seconds whatever the disk sizes (nothing is copied), its writes go to the overlays, never into
// the backup. The mapping lives as long as the calling process: the helper runs this in a detached
// process (cli/commands/instant.ts) and keeps a record (instant-record.ts) of everything it made.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { mapPoint, type Mapping } from "../map/map-point.ts";
import { checkPoint } from "../restore/check-point.ts";
import { openBackupFolder } from "../restore/plan.ts";
import { identsUpTo, planBootFiles } from "../restore/boot-files.ts";
import { adjustDomainConfig } from "../restore/domain-config.ts";
import { StagedFile } from "../restore/staged-file.ts";
import { ChainError } from "../restore/chain.ts";
import { createFresh, createNew } from "../fs/safe-open.ts";
import { createMissing, qemuUsers } from "../fs/trusted-folder.ts";
import { resolveHostFolder } from "../fs/host-folder.ts";
import { virsh } from "../libvirt/virsh.ts";
import { runTool } from "../tools/run-tool.ts";
import { currentProcess } from "../tools/proc.ts";
import { holderAlive, listRecords, moverAlive, readRecord, removeRecord, updateRecord, type InstantRecord } from "./instant-record.ts";

export interface InstantRequest {
    /** The chain's folder and the point (restore's --until). */
    folder: string;
    until: string;
    /** The new VM's name: no VM of that name may exist. */
    name: string;
    /** Where the overlays (and boot file copies) go: a trusted folder, no system folder (fs/host-folder.ts), made 0711 when missing. */
    overlayFolder: string;
    uri?: string;
}

export interface InstantVm {
    uuid: string;
    mapping: Mapping;
    /** Files made (overlays, boot files, domain XML). */
    files: string[];
    disks: InstantRecord["disks"];
    warnings: string[];
}

const ROLE = "an overlay folder";

/** QEMU's user and group (libvirt-qemu on Debian): the mapped sockets become theirs. */
async function qemuAccount(): Promise<{ uid: number; gid: number } | undefined> {
    const uid = qemuUsers()[0];
    if (uid === undefined)
        return undefined;
    const entry = (await runTool("getent", ["passwd", String(uid)])).split(":");
    return { uid, gid: Number(entry[3]) };
}

/** Whether libvirt knows a VM of that name. */
export async function vmExists(name: string, uri?: string): Promise<boolean> {
    return virsh(["domuuid", name], { uri }).then(() => true, () => false);
}

/**
 * Checks everything that can be refused before anything is made: the point, the free name, the folder
 * (trusted), the overlay names. Returns what the start needs.
 */
async function prepare(req: InstantRequest) {
    if (await vmExists(req.name, req.uri))
        throw new Error(`a virtual machine named ${req.name} exists already`);
    const folder = await openBackupFolder(req.folder);
    const checked = await checkPoint(folder, { until: req.until });
    if (!checked.point || checked.chains.length === 0)
        throw new ChainError(`nothing to start from in ${folder.dir}: the point has only raw images`);
    if (!checked.config)
        throw new ChainError(`the backup holds no domain config (vmconfig.*.xml) for ${req.until}`);
    const trusted = resolveHostFolder(req.overlayFolder, ROLE);
    const overlays = new Map(checked.chains.map(c => [c.dev, path.join(trusted.folder, `${req.name}.${c.dev}.qcow2`)]));
    const configFile = path.join(trusted.folder, `${req.name}.xml`);
    const boot = planBootFiles({
        config: checked.config.config,
        idents: identsUpTo(folder.files, checked.point),
        names: new Set(await fsp.readdir(folder.dir)),
        newVm: { name: req.name, output: trusted.folder },
        taken: new Set([...overlays.values(), configFile].map(f => path.basename(f))),
        exists: file => fs.existsSync(file),
    });
    const bootCopies = boot.steps.filter(s => s.action === "copy");
    for (const file of [...overlays.values(), configFile, ...bootCopies.map(s => s.target!)]) {
        if (fs.existsSync(file))
            throw new Error(`${file} already exists; refusing to overwrite it`);
    }
    return { folder, checked, trusted, overlays, configFile, boot, bootCopies };
}

/** The NBD URI of a mapped disk as a qcow2 backing name (map-dirs.ts paths: no character needs escaping). */
function backingUri(socket: string): string {
    if (!/^[A-Za-z0-9/._-]+$/.test(socket))
        throw new Error(`cannot name ${socket} in a backing file URI`);
    return `nbd+unix:///?socket=${socket}`;
}

/** Maps the point, makes the overlays, defines and starts the VM; on failure undoes all of it. */
export async function startInstantVm(req: InstantRequest, onMade: (files: string[]) => void = () => {}): Promise<InstantVm> {
    const p = await prepare(req);
    const files: string[] = [];
    const made = (file: string) => {
        files.push(file);
        onMade([...files]);
    };
    createMissing(p.trusted, ROLE, 0o711);  // QEMU's user must reach the overlays (0600, theirs)
    const qemu = await qemuAccount();
    const mapping = await mapPoint({ folder: p.folder.dir, until: req.until, socketOwner: qemu });
    let defined = false;
    try {
        const disks: InstantRecord["disks"] = [];
        for (const d of mapping.disks) {
            const overlay = p.overlays.get(d.dev)!;
            fs.closeSync(createFresh(overlay, 0o600));  // new, never through an existing name
            made(overlay);
            // The backing file is the NBD URI, raw: QEMU reads the point through the mapping, writes here.
            // The socket's path unescaped: libvirt does not decode %2F in the backing name it parses.
            await runTool("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", backingUri(d.socket), overlay, String(d.size)]);
            if (qemu)
                fs.chownSync(overlay, qemu.uid, qemu.gid);
            disks.push({ dev: d.dev, overlay, uri: d.uri, size: d.size });
        }
        for (const step of p.bootCopies) {
            // NVRAM, kernel, initrd: the new VM's own copies, never the original's.
            const staged = await StagedFile.stage(step.target!, { from: path.join(p.folder.dir, step.saved!) }, 0o711, { alsoOwners: qemuUsers() });
            await staged.publish();
            made(staged.target);
            if (qemu)
                fs.chownSync(staged.target, qemu.uid, qemu.gid);
        }
        const original = await fsp.readFile(path.join(p.folder.dir, p.checked.config!.name), "utf8");
        const xml = adjustDomainConfig(original, {
            name: req.name, restored: new Map(disks.map(d => [d.dev, d.overlay])), boot: p.boot.configBoot,
            diskFormat: "qcow2", newMacs: true,
            charDevFile: configured => {
                // A console log of its own in the overlay folder (libvirt's virtlogd writes it), removed with the VM.
                const file = path.join(p.trusted.folder, `${req.name}.${path.basename(configured)}`);
                if (fs.existsSync(file))
                    throw new Error(`${file} already exists; refusing to overwrite it`);
                made(file);
                return file;
            },
        });
        fs.closeSync(createFresh(p.configFile, 0o600));
        made(p.configFile);
        await fsp.writeFile(p.configFile, xml);
        await virsh(["define", p.configFile], { uri: req.uri });
        defined = true;
        const uuid = (await virsh(["domuuid", req.name], { uri: req.uri })).trim();
        await virsh(["start", req.name], { uri: req.uri });
        return { uuid, mapping, files, disks, warnings: [...mapping.warnings, ...p.boot.warnings] };
    } catch (err) {
        if (defined)
            await removeVm(req.name, undefined, req.uri);
        for (const f of files)
            fs.rmSync(f, { force: true });
        await mapping.stop();
        throw err;
    }
}

/** Stops and undefines the VM (only the one of `uuid` when given); no error when it is gone. */
export async function removeVm(name: string, uuid: string | undefined, uri?: string): Promise<void> {
    const current = await virsh(["domuuid", name], { uri }).then(s => s.trim(), () => null);
    if (current === null || (uuid !== undefined && current.toLowerCase() !== uuid.toLowerCase()))
        return;
    await virsh(["destroy", name], { uri }).catch(() => {});
    await virsh(["undefine", name, "--nvram", "--checkpoints-metadata", "--snapshots-metadata"], { uri })
        .catch(() => virsh(["undefine", name], { uri }));
}

/** Removes the VM and the files of a record (the mapping is its holder's to stop). */
export async function removeInstantVm(rec: InstantRecord, uri?: string): Promise<void> {
    await removeVm(rec.name, rec.uuid, uri);  // a move's block job ends with the VM
    for (const f of [...rec.files, ...rec.move?.files ?? []])
        fs.rmSync(f, { force: true });
}

/** What a killed holder left: its VM (useless without the mapping), files and record. Returns the names. */
export async function removeStaleInstantVms(uri?: string): Promise<string[]> {
    const removed: string[] = [];
    for (const rec of listRecords()) {
        if (holderAlive(rec))
            continue;
        await removeInstantVm(rec, uri);
        removeRecord(rec.name);
        removed.push(rec.name);
    }
    return removed;
}

/** How far Move to storage is: disk `index` of `count` (0-based), `done` of `total` bytes of it copied. */
export interface MoveProgress {
    dev: string;
    index: number;
    count: number;
    done: number;
    total: number;
}

export interface MoveOptions {
    uri?: string;
    /** The copy's bandwidth per disk in MiB/s (libvirt's blockcopy --bandwidth); unlimited when not given. */
    bandwidth?: number;
    /**
     * Stops the move while it copies: its block jobs are aborted and its copies removed; the VM runs on its
     * overlays as before. Once the first disk pivots the move finishes whatever the signal says.
     */
    signal?: AbortSignal;
}

/** How often a running copy is asked how far it is. */
const MOVE_POLL_MS = 1000;

/** cur= and end= of `virsh blockjob --raw` (a job's bytes done and to do), or null without a job. */
export function parseBlockJobRaw(output: string): { done: number; total: number } | null {
    const cur = /\bcur=(\d+)/.exec(output);
    const end = /\bend=(\d+)/.exec(output);
    return cur && end ? { done: Number(cur[1]), total: Number(end[1]) } : null;
}

/** Target and source of each disk of `virsh domblklist` (pure); a disk without a source ("-") is left out. */
export function parseDomBlkList(output: string): Map<string, string> {
    const sources = new Map<string, string>();
    for (const line of output.split("\n").slice(2)) {
        const m = /^\s*(\S+)\s+(\S.*?)\s*$/.exec(line);
        if (m && m[2] !== "-")
            sources.set(m[1], m[2]);
    }
    return sources;
}

/** The files the running VM's disks are now, by target (vda: /path); empty when libvirt does not know it. */
async function liveSources(name: string, uri?: string): Promise<Map<string, string>> {
    return virsh(["domblklist", name], { uri, readonly: true }).then(parseDomBlkList, () => new Map<string, string>());
}

/**
 * Runs one disk's blockcopy until its copy is complete and mirrored (the job stays, the pivot comes after all
 * disks are), and meanwhile asks libvirt how far it is, passing each answer on; the copy's own outcome is what
 * counts, a failed question is skipped.
 */
async function copyDisk(rec: InstantRecord, index: number, target: string, onProgress: (p: MoveProgress) => void, opts: MoveOptions): Promise<void> {
    const d = rec.disks[index];
    const report = (done: number, total: number) => onProgress({ dev: d.dev, index, count: rec.disks.length, done, total });
    let copying = true;
    const watch = (async () => {
        while (copying) {
            await new Promise(resolve => setTimeout(resolve, MOVE_POLL_MS));
            const info = copying ? await virsh(["blockjob", rec.name, d.dev, "--raw"], { uri: opts.uri, readonly: true }).catch(() => "") : "";
            const job = parseBlockJobRaw(info);
            if (copying && job && job.total > 0)
                report(job.done, job.total);
        }
    })();
    report(0, d.size);
    try {
        // Full copy (no --shallow) into the empty qcow2 made for it: the copy stands alone. --wait returns once
        // it is complete and mirrored.
        await virsh(["blockcopy", rec.name, d.dev, "--dest", target, "--format", "qcow2", "--reuse-external", "--transient-job", "--wait",
            ...(opts.bandwidth ? ["--bandwidth", String(opts.bandwidth)] : [])], { uri: opts.uri, timeoutMs: 24 * 3600_000 });
    } finally {
        copying = false;
        await watch;
    }
    opts.signal?.throwIfAborted();  // aborted just as it became ready
    report(d.size, d.size);
}

/** Aborts the block job of every disk of the VM; no error where there is none. */
async function abortBlockJobs(rec: InstantRecord, uri?: string): Promise<void> {
    for (const d of rec.disks)
        await virsh(["blockjob", rec.name, d.dev, "--abort"], { uri }).catch(() => {});  // waits for the abort
}

/**
 * Undoes a move that did not finish (stopped, failed, or its process killed): aborts its block jobs, removes
 * the copies it made, and takes the move off the record. A copy the VM already runs on (a disk pivoted just
 * before a SIGKILL) is kept and becomes one of the VM's files (Discard removes it).
 */
export async function abandonMove(rec: InstantRecord, files: readonly string[], uri?: string): Promise<void> {
    await abortBlockJobs(rec, uri);
    const inUse = new Set((await liveSources(rec.name, uri)).values());
    const kept = files.filter(f => inUse.has(f));
    for (const f of files) {
        if (!inUse.has(f))
            fs.rmSync(f, { force: true });
    }
    updateRecord(rec.name, r => ({ ...r, move: undefined, files: [...r.files, ...kept.filter(f => !r.files.includes(f))] }));
}

/**
 * What a killed move left (its process gone, its record still naming it) is undone; returns the record as it is
 * now. A move whose process runs is left alone.
 */
export async function settleDeadMove(rec: InstantRecord, uri?: string): Promise<InstantRecord> {
    if (!rec.move || moverAlive(rec))
        return rec;
    await abandonMove(rec, rec.move.files, uri);
    return readRecord(rec.name) ?? { ...rec, move: undefined };
}

/**
 * Move to storage: copies each disk of a running started-from-backup VM, whole (the overlay with the point
 * under it), into `folder` while it runs (libvirt's blockcopy into a qcow2 this move creates new), pivots all
 * disks once all are copied, and makes the persistent definition name the copies. Afterwards the VM needs
 * neither the overlays nor the mapping. Before the first copy is made the record names the move, so a move
 * whose process is killed is undone later (settleDeadMove); one that is stopped or fails undoes itself.
 * Returns the copies; `onProgress` follows the copy disk by disk.
 */
export async function moveInstantVm(rec: InstantRecord, folder: string, onProgress: (p: MoveProgress) => void = () => {}, opts: MoveOptions = {}): Promise<string[]> {
    const { uri, signal } = opts;
    if (moverAlive(rec))
        throw new Error(`${rec.name} is being moved already (process ${rec.move!.pid})`);
    const role = "a folder for the moved disks";
    const trusted = resolveHostFolder(folder, role);
    const targets = rec.disks.map(d => path.join(trusted.folder, `${rec.name}.${d.dev}.moved.qcow2`));
    const sources = await liveSources(rec.name, uri);
    // A disk pivoted by a move killed just then already runs on its copy here: it stays as it is.
    const pending = [...rec.disks.keys()].filter(i => sources.get(rec.disks[i].dev) !== targets[i]);
    for (const i of pending) {
        if (fs.existsSync(targets[i]))
            throw new Error(`${targets[i]} already exists; refusing to overwrite it`);
    }
    if (await virsh(["domstate", rec.name], { uri }).then(s => s.trim(), () => "") !== "running")
        throw new Error(`${rec.name} is not running: only a running VM is moved`);
    signal?.throwIfAborted();
    createMissing(trusted, role, 0o711);  // QEMU's user must reach the copies
    const move = { ...currentProcess(), files: [] as string[] };
    const note = () => updateRecord(rec.name, r => ({ ...r, move: { ...move, files: [...move.files] } }));
    if (!note())
        throw new Error(`${rec.name} is no longer a virtual machine started from a backup`);
    let pivoting = false;
    const onAbort = () => {
        if (!pivoting)
            void abortBlockJobs(rec, uri);  // the running blockcopy then ends with an error
    };
    signal?.addEventListener("abort", onAbort);
    try {
        const qemu = await qemuAccount();
        for (const i of pending) {
            signal?.throwIfAborted();
            // Named in the record before it is made (a SIGKILL between the two leaves nothing unnamed); only ever
            // a file this move made is removed again: one that appeared meanwhile is not named.
            move.files.push(targets[i]);
            note();
            try {
                fs.closeSync(createNew(targets[i], 0o600));
            } catch (err) {
                move.files.pop();
                note();
                throw err;
            }
            await runTool("qemu-img", ["create", "-q", "-f", "qcow2", targets[i], String(rec.disks[i].size)]);
            if (qemu)
                fs.chownSync(targets[i], qemu.uid, qemu.gid);
        }
        for (const i of pending)
            await copyDisk(rec, i, targets[i], onProgress, opts);
        // No way back from the first pivot on: the rest pivot too, whatever a signal says meanwhile.
        pivoting = true;
        for (const i of pending)
            await virsh(["blockjob", rec.name, rec.disks[i].dev, "--pivot"], { uri });
    } catch (err) {
        // The jobs go, and the copies but those a disk already runs on (a failed pivot: they become the VM's files).
        await abandonMove(rec, move.files, uri);
        if (!pivoting && signal?.aborted)
            throw signal.reason as Error;
        const moved = (await liveSources(rec.name, uri)).values();
        const kept = [...moved].filter(f => move.files.includes(f));
        throw new Error(`${(err as Error).message}${kept.length ? ` (already moved: ${kept.join(", ")})` : ""}`);
    } finally {
        signal?.removeEventListener("abort", onAbort);
    }
    // The running VM names the copies; its persistent definition must too (a transient job leaves it alone).
    const live = await virsh(["dumpxml", rec.name], { uri });
    const xmlFile = path.join(trusted.folder, `${rec.name}.moved.xml`);
    fs.closeSync(createFresh(xmlFile, 0o600));
    try {
        await fsp.writeFile(xmlFile, live);
        await virsh(["define", xmlFile], { uri });
    } finally {
        fs.rmSync(xmlFile, { force: true });
    }
    return targets;
}
