// From a backup folder and the user's selection to one job per disk, with every refusal decided before
// anything is written: identity of the VM, the chains, each member's full frame structure, output names.
import fsp from "node:fs/promises";
import path from "node:path";
import { StreamSource } from "../engine/stream-source.ts";
import { ChainError, selectChain, type BackupFile, type Chain } from "./chain.ts";
import { restoredFileName, type ConfigDisk } from "./domain-config.ts";
import { configFor, readBackupFolder, type BackupFolder, type SavedConfig } from "./folder.ts";
import { folderIdentity, type VmIdentity } from "./identity.ts";
import { qcowCreateOptions, readQcowInfo } from "./image.ts";
import type { DiskJob } from "./restore-disk.ts";

export interface RestoreSelection {
    input: string;
    output: string;
    until?: string;
    /** Base names (or paths inside the input folder), in order. */
    sequence?: string[];
    disk?: string;
}

export interface RestorePlan {
    folder: BackupFolder;
    identity: VmIdentity | null;
    /** The saved domain config of the restore point. */
    config: SavedConfig | undefined;
    jobs: DiskJob[];
    chains: Chain[];
    /** Disks of the config that have no backup (excluded when the backup was made). */
    excluded: string[];
    warnings: string[];
}

/** The ident under which a file's companions (vmconfig, qcow.json) are saved. */
export function identOf(f: BackupFile): string {
    return f.level === "full" ? f.meta.checkpointName : f.ident ?? f.meta.checkpointName;
}

export async function planRestore(sel: RestoreSelection): Promise<RestorePlan> {
    let stat;
    try {
        stat = await fsp.stat(sel.input);
    } catch {
        throw new ChainError(`backup folder ${sel.input} does not exist`);
    }
    if (!stat.isDirectory())
        throw new ChainError(`${sel.input} is not a folder`);
    const folder = await readBackupFolder(sel.input);
    const warnings = folder.partials.map(p => `ignoring ${p}: an unfinished backup file`);
    if (folder.problems.length > 0)
        throw new ChainError(folder.problems[0]);
    const identity = folderIdentity(folder);

    const sequence = sel.sequence?.map(s => path.basename(s));
    let devs: string[];
    if (sequence) {
        const seqDevs = new Set(sequence.map(name => folder.files.find(f => f.name === name)?.dev ??
            folder.unreadable.find(u => u.name === name)?.dev ?? name.split(".")[0]));
        if (seqDevs.size !== 1)
            throw new ChainError(`a sequence must name files of one disk, got ${[...seqDevs].join(", ")}`);
        devs = [...seqDevs];
        if (sel.disk !== undefined && sel.disk !== devs[0])
            throw new ChainError(`--disk ${sel.disk} does not match the sequence's disk ${devs[0]}`);
    } else {
        devs = [...new Set([...folder.files.map(f => f.dev), ...folder.unreadable.map(u => u.dev)])].sort();
        if (devs.length === 0)
            throw new ChainError(`no data files in ${sel.input}`);
        if (sel.disk !== undefined) {
            if (!devs.includes(sel.disk))
                throw new ChainError(`no backup of disk ${sel.disk} in ${sel.input} (disks: ${devs.join(", ")})`);
            devs = [sel.disk];
        }
    }

    const checkpoints = folder.checkpointLists[0]?.checkpoints ?? null;
    const chains: Chain[] = [];
    for (const dev of devs) {
        const bad = folder.unreadable.filter(u => u.dev === dev && (!sequence || sequence.includes(u.name)));
        if (bad.length > 0)
            throw new ChainError(`${bad[0].name}: cannot read its meta frame, refusing to guess the chain: ${bad[0].error}`, bad[0].name);
        chains.push(selectChain(dev, folder.files, checkpoints, { until: sel.until, sequence }));
    }

    // The config of the restore point (newest member of the first chain) names the disks' files.
    const config = configFor(folder, chains[0].members[chains[0].members.length - 1]);
    const configDisks = new Map<string, ConfigDisk>((config?.config.disks ?? []).map(d => [d.dev, d]));
    const excluded = (config?.config.disks ?? [])
            .filter(d => d.device === "disk" && !folder.files.some(f => f.dev === d.dev) && !folder.unreadable.some(u => u.dev === d.dev))
            .map(d => d.dev);
    for (const dev of excluded)
        warnings.push(`disk ${dev} has no backup (excluded when it was made): not restored`);

    const jobs: DiskJob[] = [];
    const outputs = new Set<string>();
    for (const chain of chains) {
        const base = chain.members[0];
        let name = restoredFileName(configDisks.get(chain.dev), chain.dev);
        if (outputs.has(name))
            name = `${chain.dev}.${name}`;
        outputs.add(name);
        for (const m of chain.members)
            await checkQcowInfo(folder.dir, m);
        const info = base.meta.diskFormat === "qcow2"
            ? await readQcowInfo(folder.dir, chain.dev, [...chain.members].reverse().map(identOf))
            : null;
        jobs.push({
            dev: chain.dev,
            dir: folder.dir,
            members: chain.members,
            output: path.resolve(sel.output, name),
            format: base.meta.diskFormat,
            size: base.meta.virtualSize,
            createOptions: info ? qcowCreateOptions(info.info) : [],
        });
    }
    for (const job of jobs)
        await validateMembers(job);
    return { folder, identity, config, jobs, chains, excluded, warnings };
}

/** A member's saved qemu-img info must describe a disk of the member's size (else: another VM's file). */
async function checkQcowInfo(dir: string, m: BackupFile): Promise<void> {
    const saved = await readQcowInfo(dir, m.dev, [identOf(m)]);
    const size = saved ? (saved.info as Record<string, unknown>)["virtual-size"] : undefined;
    if (typeof size === "number" && size !== m.meta.virtualSize) {
        throw new ChainError(`${m.name}: disk of ${m.meta.virtualSize} bytes, but ${path.basename(saved!.file)} saved with it ` +
            `describes ${size} bytes: the file belongs to another VM or backup`, m.name);
    }
}

/** Opens every member once: the whole frame structure is checked before anything is written. */
async function validateMembers(job: DiskJob): Promise<void> {
    for (const m of job.members) {
        const file = path.join(job.dir, m.name);
        let source: StreamSource;
        try {
            source = await StreamSource.open(file);
        } catch (err) {
            const e = err as NodeJS.ErrnoException;
            throw new ChainError(e.code ? `${file}: cannot read: ${e.message}` : e.message, m.name);
        }
        await source.close();
    }
}
