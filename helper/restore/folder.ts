// SPDX-License-Identifier: GPL-3.0-or-later
// Reads what a backup folder holds: data files with their meta frames, the checkpoint list, the saved
// domain configs and checkpoint XMLs. Only reads; decisions are in chain.ts and identity.ts.
import fsp from "node:fs/promises";
import path from "node:path";
import {
    checkpointIndex, CHECKSUM_SUFFIX, FormatError, isCheckpointName, oneLineMessage, FRAME_HEADER_LENGTH, PARTIAL_SUFFIX, parseCheckpointListFileName,
    parseDataFileName, parseFrameHeader, parseMeta, parseVmConfigFileName, type StreamMeta,
} from "../format/index.ts";
import type { BackupFile } from "./chain.ts";
import { parseCheckpointDomain, parseDomainXml, type DomainConfig } from "../libvirt/domain-xml.ts";

export interface SavedConfig {
    /** `vmconfig.<ident>.xml` */
    name: string;
    ident: string;
    config: DomainConfig;
}

export interface BackupFolder {
    dir: string;
    files: BackupFile[];
    /**
     * Data files whose meta frame cannot be read. `headerless`: a full/copy file that does not start
     * with a frame header at all and holds whole sectors, as the raw image of a raw-format disk does
     * (whether it is one the restore decides with the saved config).
     */
    unreadable: { name: string; dev: string; error: string; headerless?: boolean }[];
    /** `*.partial` files: unfinished backups, never restored. */
    partials: string[];
    /** `<vm>.cpt` files found (normally one). */
    checkpointLists: { name: string; vm: string; checkpoints: string[] }[];
    configs: SavedConfig[];
    /** Domain name/uuid of each checkpoints/<name>.xml. */
    checkpointXmls: { name: string; domain: { name: string; uuid: string | null } | null }[];
    /** Problems reading configs or checkpoint files (each names its file). */
    problems: string[];
}

const META_LIMIT = 1 << 20;

/** Reads only the meta frame of a stream file (for listing and dump; restore validates everything). */
export async function readMeta(file: string): Promise<StreamMeta> {
    const fh = await fsp.open(file, "r");
    try {
        const head = Buffer.alloc(FRAME_HEADER_LENGTH);
        const { bytesRead } = await fh.read(head, 0, head.length, 0);
        if (bytesRead < FRAME_HEADER_LENGTH)
            throw new FormatError(`file of ${bytesRead} bytes is too short for a meta frame`, { file, offset: 0 });
        let header;
        try {
            header = parseFrameHeader(head);
        } catch (err) {
            throw err instanceof FormatError ? err.locate({ file, offset: 0 }) : err;
        }
        if (header.kind !== "meta")
            throw new FormatError(`first frame is "${header.kind}", expected "meta"`, { file, offset: 0 });
        if (header.length > META_LIMIT)
            throw new FormatError(`meta frame of ${header.length} bytes is implausibly large`, { file, offset: 0 });
        const body = Buffer.alloc(header.length + 2);
        const got = (await fh.read(body, 0, body.length, FRAME_HEADER_LENGTH)).bytesRead;
        if (got < body.length)
            throw new FormatError("file ends inside the meta frame", { file, offset: FRAME_HEADER_LENGTH + got });
        if (body[header.length] !== 0x0d || body[header.length + 1] !== 0x0a)
            throw new FormatError("missing CRLF after the meta frame", { file, offset: FRAME_HEADER_LENGTH + header.length });
        try {
            return parseMeta(body.subarray(0, header.length));
        } catch (err) {
            throw err instanceof FormatError ? err.locate({ file, offset: FRAME_HEADER_LENGTH }) : err;
        }
    } finally {
        await fh.close();
    }
}

const FRAME_KINDS = new Set(["meta", "data", "zero", "stop", "comp"]);

/** A non-empty file of whole sectors whose first bytes are no frame kind: not a (damaged) stream. */
async function startsHeaderless(file: string): Promise<boolean> {
    try {
        const fh = await fsp.open(file, "r");
        try {
            const { size } = await fh.stat();
            if (size === 0 || size % 512 !== 0)
                return false;
            const head = Buffer.alloc(4);
            await fh.read(head, 0, 4, 0);
            return !FRAME_KINDS.has(head.toString("latin1"));
        } finally {
            await fh.close();
        }
    } catch {
        return false;
    }
}

/** Lists and reads the folder. Throws only when the folder itself cannot be read. */
export async function readBackupFolder(dir: string): Promise<BackupFolder> {
    const names = (await fsp.readdir(dir)).sort();
    const folder: BackupFolder = {
        dir, files: [], unreadable: [], partials: [], checkpointLists: [], configs: [], checkpointXmls: [], problems: [],
    };
    for (const name of names) {
        if (name.endsWith(PARTIAL_SUFFIX)) {
            folder.partials.push(name);
            continue;
        }
        if (name.endsWith(CHECKSUM_SUFFIX))
            continue;
        const parsed = parseDataFileName(name);
        if (parsed) {
            try {
                const meta = await readMeta(path.join(dir, name));
                folder.files.push({ name, ...parsed, meta });
            } catch (err) {
                const headerless = (parsed.level === "full" || parsed.level === "copy") && await startsHeaderless(path.join(dir, name));
                folder.unreadable.push({ name, dev: parsed.dev, error: (err as Error).message, ...(headerless ? { headerless } : {}) });
            }
            continue;
        }
        const configIdent = parseVmConfigFileName(name);
        if (configIdent !== null) {
            try {
                folder.configs.push({ name, ident: configIdent, config: parseDomainXml(await fsp.readFile(path.join(dir, name), "utf8"), name) });
            } catch (err) {
                folder.problems.push(`${name}: ${(err as Error).message}`);
            }
            continue;
        }
        const listVm = parseCheckpointListFileName(name);
        if (listVm !== null) {
            try {
                const list: unknown = JSON.parse(await fsp.readFile(path.join(dir, name), "utf8"));
                if (!Array.isArray(list) || !list.every(x => typeof x === "string"))
                    throw new Error("not a JSON list of checkpoint names");
                folder.checkpointLists.push({ name, vm: listVm, checkpoints: list });
            } catch (err) {
                folder.problems.push(`${name}: damaged checkpoint list: ${oneLineMessage(err)}`);
            }
        }
    }
    const cpDir = path.join(dir, "checkpoints");
    const cpNames = await fsp.readdir(cpDir).catch(() => [] as string[]);
    for (const name of cpNames.filter(n => n.endsWith(".xml")).sort()) {
        try {
            const domain = parseCheckpointDomain(await fsp.readFile(path.join(cpDir, name), "utf8"), name);
            folder.checkpointXmls.push({ name: `checkpoints/${name}`, domain: domain && { name: domain.name, uuid: domain.uuid || null } });
        } catch (err) {
            folder.problems.push(`checkpoints/${name}: ${(err as Error).message}`);
        }
    }
    return folder;
}

/** The saved config of a restore point: `vmconfig.<ident>.xml` of the file, else the newest one. */
export function configFor(folder: BackupFolder, file: BackupFile | undefined): SavedConfig | undefined {
    if (file) {
        const ident = file.level === "full" ? file.meta.checkpointName : file.ident;
        const own = folder.configs.find(c => c.ident === ident);
        if (own)
            return own;
    }
    return newestConfig(folder);
}

/** Orders idents as the backups were made: virtnbdbackup.N by N, unix times by value, others last. */
function identRank(ident: string): number {
    return checkpointIndex(ident) ?? (/^\d+$/.test(ident) ? Number(ident) : -1);
}

export function newestConfig(folder: BackupFolder): SavedConfig | undefined {
    // Unix-time idents (diffs) are huge next to checkpoint indexes; rank each kind apart by recency:
    // prefer the latest checkpoint config, a diff's config only when no checkpoint config exists.
    const byCheckpoint = folder.configs.filter(c => isCheckpointName(c.ident));
    const pool = byCheckpoint.length > 0 ? byCheckpoint : folder.configs;
    return [...pool].sort((a, b) => identRank(a.ident) - identRank(b.ident)).pop();
}
