// From a backup folder and the user's selection to one job per disk, with every refusal decided before
// anything is written: identity of the VM, the chains, each member's full frame structure, output names.
import fsp from "node:fs/promises";
import path from "node:path";
import { StreamSource } from "../engine/stream-source.ts";
import { identOf } from "./boot-files.ts";
import { ChainError, selectChain, type BackupFile, type Chain } from "./chain.ts";
import { restoredFileName, type ConfigDisk } from "./domain-config.ts";
import { configFor, readBackupFolder, type BackupFolder, type SavedConfig } from "./folder.ts";
import { folderIdentity, type VmIdentity } from "./identity.ts";
import { qcowCreateOptions, readQcowInfo } from "./image.ts";
import type { RawImageJob } from "./raw-image.ts";
import type { DiskJob } from "./restore-disk.ts";

export interface RestoreSelection {
    input: string;
    output: string;
    until?: string;
    /** Base names (or paths inside the input folder), in order. */
    sequence?: string[];
    disk?: string;
    /** Restore raw-format disks' raw images as they are (-r). */
    raw?: boolean;
}

export interface RestorePlan {
    folder: BackupFolder;
    identity: VmIdentity | null;
    /** The saved domain config of the restore point. */
    config: SavedConfig | undefined;
    jobs: DiskJob[];
    /** Raw images of raw-format disks to copy as they are (-r). */
    rawJobs: RawImageJob[];
    /** The restore point: the newest member of the first chain; null when only raw images are restored. */
    point: BackupFile | null;
    chains: Chain[];
    /** Disks of the config that have no backup (excluded when the backup was made). */
    excluded: string[];
    warnings: string[];
}

export { identOf };

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
    // A headerless full/copy of a disk that has no stream files may be a raw-format disk's raw image;
    // the saved config decides below. Beside stream files of its disk it is a damaged stream.
    const streamDevs = new Set(folder.files.map(f => f.dev));
    const rawCandidates = sequence ? [] : folder.unreadable.filter(u => u.headerless && !streamDevs.has(u.dev) &&
        !folder.unreadable.some(o => o.dev === u.dev && !o.headerless) && (sel.disk === undefined || sel.disk === u.dev));
    const unreadable = folder.unreadable.filter(u => !rawCandidates.includes(u));
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
        devs = [...new Set([...folder.files.map(f => f.dev), ...unreadable.map(u => u.dev)])].sort();
        if (devs.length === 0 && rawCandidates.length === 0)
            throw new ChainError(`no data files in ${sel.input}`);
        if (sel.disk !== undefined) {
            if (!devs.includes(sel.disk) && rawCandidates.length === 0)
                throw new ChainError(`no backup of disk ${sel.disk} in ${sel.input} (disks: ${[...devs, ...folder.unreadable.map(u => u.dev)].join(", ")})`);
            devs = devs.filter(d => d === sel.disk);
        }
    }

    const checkpoints = folder.checkpointLists[0]?.checkpoints ?? null;
    const chains: Chain[] = [];
    for (const dev of devs) {
        const bad = unreadable.filter(u => u.dev === dev && (!sequence || sequence.includes(u.name)));
        if (bad.length > 0)
            throw new ChainError(`${bad[0].name}: cannot read its meta frame, refusing to guess the chain: ${bad[0].error}`, bad[0].name);
        chains.push(selectChain(dev, folder.files, checkpoints, { until: sel.until, sequence }));
    }

    // The config of the restore point (newest member of the first chain) names the disks' files.
    const point = chains.length > 0 ? chains[0].members[chains[0].members.length - 1] : null;
    const config = configFor(folder, point ?? undefined);
    const configDisks = new Map<string, ConfigDisk>((config?.config.disks ?? []).map(d => [d.dev, d]));
    const excluded = (config?.config.disks ?? [])
            .filter(d => d.device === "disk" && !folder.files.some(f => f.dev === d.dev) && !folder.unreadable.some(u => u.dev === d.dev))
            .map(d => d.dev);
    for (const dev of excluded)
        warnings.push(`disk ${dev} has no backup (excluded when it was made): not restored`);

    const outputs = new Set<string>();
    const outputName = (dev: string): string => {
        // A --sequence restore names its image after the disk (vda), as the Python tool does; scripts rely on it.
        let name = sequence ? dev : restoredFileName(configDisks.get(dev), dev);
        if (outputs.has(name))
            name = `${dev}.${name}`;
        outputs.add(name);
        return name;
    };
    const rawJobs: RawImageJob[] = [];
    const skippedRaw: string[] = [];
    for (const u of [...rawCandidates].sort((a, b) => a.dev < b.dev ? -1 : 1)) {
        if (configDisks.get(u.dev)?.format !== "raw") {
            throw new ChainError(`${u.name}: cannot read its meta frame, and the saved config does not name ${u.dev} a raw-format disk ` +
                `(whose backup would be a raw image): refusing to guess: ${u.error}`, u.name);
        }
        if (!sel.raw) {
            skippedRaw.push(u.name);
            warnings.push(`${u.name} is the raw image of raw-format disk ${u.dev}: not restored; -r/--raw copies it as it is`);
            continue;
        }
        rawJobs.push({ dev: u.dev, dir: folder.dir, name: u.name, output: "" });
    }
    if (chains.length === 0 && rawJobs.length === 0)
        throw new ChainError(`nothing to restore in ${sel.input}: ${skippedRaw.join(", ")} ${skippedRaw.length > 1 ? "are raw images" : "is a raw image"}; -r/--raw restores ${skippedRaw.length > 1 ? "them" : "it"}`);

    const jobs: DiskJob[] = [];
    for (const chain of chains) {
        const base = chain.members[0];
        const name = outputName(chain.dev);
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
    for (const raw of rawJobs)
        raw.output = path.resolve(sel.output, outputName(raw.dev));
    for (const job of jobs)
        await validateMembers(job);
    return { folder, identity, config, jobs, rawJobs, point, chains, excluded, warnings };
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
