// SPDX-License-Identifier: GPL-3.0-or-later
// The one check of a restore point that restore and verify share: everything that decides whether the
// selected point can be restored, short of reading the data itself. The VM the folder belongs to, the
// chain of every disk (gaps, order, foreign files by checkpoint list, size, date and the VM UUID in the
// meta frames), the saved qemu-img info, and each member's complete frame structure. The data's own
// checks (lz4 checksums, .chksum) are in check-content.ts: restore makes them while it copies, verify
// by reading each file once.
import fs from "node:fs";
import path from "node:path";
import { chainNumber, sortChains } from "../format/chain-folders.ts";
import { StreamSource } from "../engine/stream-source.ts";
import { identOf } from "./boot-files.ts";
import { ChainError, checkOwners, selectChain, type BackupFile, type Chain } from "./chain.ts";
import { configFor, type BackupFolder, type SavedConfig } from "./folder.ts";
import { folderIdentity, ownerOf, type VmIdentity } from "./identity.ts";
import { readQcowInfo } from "./qcow-info.ts";

export interface PointSelection {
    until?: string;
    /** Base names, in order. */
    sequence?: string[];
    disk?: string;
    /** Restore raw-format disks' raw images as they are (-r). */
    raw?: boolean;
}

export interface CheckedPoint {
    identity: VmIdentity | null;
    /** One per disk restored from stream files, in dev order (or the sequence's disk). */
    chains: Chain[];
    /** The restore point: the newest member of the first chain; null when only raw images are restored. */
    point: BackupFile | null;
    /** The saved domain config of the restore point. */
    config: SavedConfig | undefined;
    /** Raw images of raw-format disks to copy as they are (-r). */
    rawImages: { dev: string; name: string }[];
    /** Disks of the config that have no backup (excluded when it was made). */
    excluded: string[];
    warnings: string[];
}

/** Formats of the images a restore creates (qemu-img create). */
const RESTORABLE_FORMATS = ["qcow2", "raw"];

/**
 * Frame structure of a file, checked once per file however many points use it: undefined when it was
 * never checked, else null (sound) or the error.
 */
export type StructureCache = Map<string, Error | null>;

/** Decides whether `sel` restores from `folder`; throws ChainError (or FormatError) naming the culprit. */
export async function checkPoint(folder: BackupFolder, sel: PointSelection, cache: StructureCache = new Map()): Promise<CheckedPoint> {
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
            throw new ChainError(`no data files in ${folder.dir}${chainsHint(folder.dir)}`);
        if (sel.disk !== undefined) {
            if (!devs.includes(sel.disk) && rawCandidates.length === 0)
                throw new ChainError(`no backup of disk ${sel.disk} in ${folder.dir} (disks: ${[...devs, ...folder.unreadable.map(u => u.dev)].join(", ")})`);
            devs = devs.filter(d => d === sel.disk);
        }
    }

    const checkpoints = folder.checkpointLists[0]?.checkpoints ?? null;
    const owner = ownerOf(identity);
    const chains: Chain[] = [];
    for (const dev of devs) {
        const bad = unreadable.filter(u => u.dev === dev && (!sequence || sequence.includes(u.name)));
        if (bad.length > 0)
            throw new ChainError(`${bad[0].name}: cannot read its meta frame, refusing to guess the chain: ${bad[0].error}`, bad[0].name);
        chains.push(selectChain(dev, folder.files, checkpoints, { until: sel.until, sequence, owner }));
    }
    // Each chain is of one VM; so must all disks be.
    checkOwners(chains.flatMap(c => c.members), owner);

    const point = chains.length > 0 ? chains[0].members[chains[0].members.length - 1] : null;
    const config = configFor(folder, point ?? undefined);
    const configDisks = new Map((config?.config.disks ?? []).map(d => [d.target, d]));
    const excluded = (config?.config.disks ?? [])
            .filter(d => d.device === "disk" && !folder.files.some(f => f.dev === d.target) && !folder.unreadable.some(u => u.dev === d.target))
            .map(d => d.target);
    for (const dev of excluded)
        warnings.push(`disk ${dev} has no backup (excluded when it was made): not restored`);

    const rawImages: { dev: string; name: string }[] = [];
    const skippedRaw: string[] = [];
    for (const u of [...rawCandidates].sort((a, b) => a.dev < b.dev ? -1 : 1)) {
        if (configDisks.get(u.dev)?.driverType !== "raw") {
            throw new ChainError(`${u.name}: cannot read its meta frame, and the saved config does not name ${u.dev} a raw-format disk ` +
                `(whose backup would be a raw image): refusing to guess: ${u.error}`, u.name);
        }
        if (!sel.raw) {
            skippedRaw.push(u.name);
            warnings.push(`${u.name} is the raw image of raw-format disk ${u.dev}: not restored; -r/--raw copies it as it is`);
            continue;
        }
        rawImages.push({ dev: u.dev, name: u.name });
    }
    if (chains.length === 0 && rawImages.length === 0)
        throw new ChainError(`nothing to restore in ${folder.dir}: ${skippedRaw.join(", ")} ${skippedRaw.length > 1 ? "are raw images" : "is a raw image"}; -r/--raw restores ${skippedRaw.length > 1 ? "them" : "it"}`);

    for (const chain of chains) {
        const base = chain.members[0];
        if (!RESTORABLE_FORMATS.includes(base.meta.diskFormat)) {
            throw new ChainError(`${base.name}: its meta frame names disk format "${base.meta.diskFormat}": ` +
                `only ${RESTORABLE_FORMATS.join(" and ")} disks are restored`, base.name);
        }
        for (const m of chain.members)
            await checkQcowInfo(folder.dir, m);
    }
    await checkStructures(folder.dir, chains.flatMap(c => c.members), cache);
    return { identity, chains, point, config, rawImages, excluded, warnings };
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

/** Members whose structure is scanned at once: one file's reads wait while the other's are parsed. */
const SCANS_AT_ONCE = 2;

/**
 * Opens every member once: their whole frame structure is checked before anything is written. Two files are
 * scanned at a time (a fragmented file's scan waits on one read after another); the first problem in
 * the members' order is thrown.
 */
async function checkStructures(dir: string, members: readonly BackupFile[], cache: StructureCache): Promise<void> {
    const problems: Promise<Error | null>[] = [];
    let next = 0;
    const scanNext = async (): Promise<void> => {
        while (next < members.length) {
            const i = next++;
            problems[i] = structureProblem(path.join(dir, members[i].name), cache);
            await problems[i];
        }
    };
    await Promise.all(Array.from({ length: Math.min(SCANS_AT_ONCE, members.length) }, scanNext));
    for (const [i, problem] of (await Promise.all(problems)).entries()) {
        if (problem)
            throw new ChainError(problem.message, members[i].name);
    }
}

/** The frame structure's first problem of `file`, or null; each file is opened once per cache. */
export async function structureProblem(file: string, cache: StructureCache): Promise<Error | null> {
    let problem = cache.get(file);
    if (problem === undefined) {
        try {
            await (await StreamSource.open(file)).close();
            problem = null;
        } catch (err) {
            const e = err as NodeJS.ErrnoException;
            problem = new Error(e.code ? `${file}: cannot read: ${e.message}` : e.message);
        }
        cache.set(file, problem);
    }
    return problem;
}

/** A VM folder whose chains are all in subfolders (helper/format/chain-folders.ts): say which to give. */
function chainsHint(dir: string): string {
    let chains: string[];
    try {
        chains = sortChains(fs.readdirSync(dir, { withFileTypes: true }).filter(e => e.isDirectory() && chainNumber(e.name) !== undefined).map(e => e.name));
    } catch {
        return "";
    }
    return chains.length ? `; its chains are in subfolders: ${chains.join(", ")} (restore one with -i ${path.join(dir, chains.at(-1)!)})` : "";
}
