// SPDX-License-Identifier: GPL-3.0-or-later
// Which backup files rebuild a disk, in which order: pure decisions over file names and meta frames.
//
// Order follows the checkpoint index in each file's meta frame, never file mtimes. A diff carries
// everything changed since its parent checkpoint and names the *next* index (virtnbdbackup.<count>), so
// at one index the diffs come before the full/inc that created that checkpoint, oldest first. A diff is
// superseded by any later diff or inc with the same parent, so a chain holds at most one diff: the last
// member. A full/copy restarts the chain.
import { checkpointIndex, parseDataFileName, type BackupLevel, type StreamMeta } from "../format/index.ts";

/** One data file of a backup folder with its meta frame. */
export interface BackupFile {
    /** Base name, e.g. `vda.inc.virtnbdbackup.2.data`. */
    name: string;
    dev: string;
    level: BackupLevel;
    /** The name's ident: checkpoint for inc, unix time for diff, "copy", null for full. */
    ident: string | null;
    meta: StreamMeta;
}

/** A restore refused because of the backup's content; `file` names the culprit when there is one. */
export class ChainError extends Error {
    override readonly name = "ChainError";
    constructor(message: string, readonly file?: string) {
        super(message);
    }
}

export function isBase(f: BackupFile): boolean {
    return f.level === "full" || f.level === "copy";
}

/** Checks that a file's name and its meta frame tell the same story. */
export function checkFileConsistent(f: BackupFile): void {
    const fail = (why: string): never => {
        throw new ChainError(`${f.name}: ${why}`, f.name);
    };
    if (f.meta.diskName !== f.dev)
        fail(`holds disk "${f.meta.diskName}", but its name says "${f.dev}"`);
    if (checkpointIndex(f.meta.checkpointName) === undefined)
        fail(`checkpoint name "${f.meta.checkpointName}" is not virtnbdbackup.<N>`);
    if (isBase(f)) {
        if (f.meta.incremental || f.meta.parentCheckpoint !== "")
            fail(`is named ${f.level} but its meta frame describes an incremental stream`);
    } else {
        if (!f.meta.incremental)
            fail(`is named ${f.level} but its meta frame describes a full stream`);
        if (checkpointIndex(f.meta.parentCheckpoint) === undefined)
            fail(`parent checkpoint "${f.meta.parentCheckpoint}" is not virtnbdbackup.<N>`);
        if (f.level === "inc" && f.ident !== f.meta.checkpointName)
            fail(`is named for checkpoint ${f.ident} but its meta frame names ${f.meta.checkpointName}`);
    }
}

function dateKey(f: BackupFile): number {
    const t = Date.parse(f.meta.date);
    return Number.isNaN(t) ? 0 : t;
}

/** Restore order: checkpoint index; at one index diffs (oldest first), then the inc, then a full. */
export function compareFiles(a: BackupFile, b: BackupFile): number {
    const ia = checkpointIndex(a.meta.checkpointName) ?? 0;
    const ib = checkpointIndex(b.meta.checkpointName) ?? 0;
    if (ia !== ib)
        return ia - ib;
    // A full of the same index as an incremental is a consolidation's, switched in beside the files it
    // replaces: it comes last, so the point restores from it alone.
    const rank = (f: BackupFile) => f.level === "diff" ? 0 : f.level === "inc" ? 1 : 2;
    const da = rank(a);
    const db = rank(b);
    if (da !== db)
        return da - db;
    return dateKey(a) - dateKey(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

export interface Selection {
    /** Checkpoint name, data file name, or a diff's unix-time ident: the restore point. */
    until?: string;
    /** Exactly these files, in this order (base names). */
    sequence?: string[];
    /** The VM the backup is of, when the folder says (its saved config or checkpoint XML). */
    owner?: FileOwner | null;
}

/** A VM's UUID and the file of the backup folder that says so. */
export interface FileOwner {
    uuid: string;
    from: string;
}

export interface Chain {
    dev: string;
    /** The files to apply, in order. The first is a full or copy. */
    members: BackupFile[];
    /** Files of the disk not applied, with the reason (superseded diffs, later points, older chains). */
    skipped: { name: string; why: string }[];
}

/**
 * The chain that restores `dev` to the selected point. `files` are all of the disk's data files;
 * `checkpoints` is the folder's `<vm>.cpt` list, or null when there is none.
 */
export function selectChain(dev: string, files: BackupFile[], checkpoints: string[] | null, sel: Selection = {}): Chain {
    const own = files.filter(f => f.dev === dev);
    for (const f of own)
        checkFileConsistent(f);
    const members = sel.sequence ? fromSequence(dev, own, sel.sequence) : fromFolder(dev, own, sel.until);
    // Foreign files first: their other symptoms (gaps, sizes) would hide the cause.
    checkOwners(members, sel.owner ?? null);
    checkListed(members, checkpoints);
    checkContinuity(members);
    checkNewestListed(dev, members, checkpoints, sel);
    const used = new Set(members.map(m => m.name));
    const skipped = [...own].sort(compareFiles).filter(f => !used.has(f.name)).map(f => ({ name: f.name, why: skipReason(f, members) }));
    return { dev, members, skipped };
}

function fromSequence(dev: string, own: BackupFile[], sequence: string[]): BackupFile[] {
    if (sequence.length === 0)
        throw new ChainError("the sequence is empty");
    const byName = new Map(own.map(f => [f.name, f]));
    const members = sequence.map(name => {
        const f = byName.get(name);
        if (!f)
            throw new ChainError(`${name}: not a data file of disk ${dev} in the backup folder`, name);
        return f;
    });
    if (!isBase(members[0]))
        throw new ChainError(`${members[0].name}: a sequence must start with a full or copy backup`, members[0].name);
    // A full later in a sequence is applied over what came before (its zero ranges are written as zeroes).
    return members;
}

/** The file `until` designates, or the newest file. */
function findTarget(dev: string, ordered: BackupFile[], until: string | undefined): BackupFile {
    if (until === undefined)
        return ordered[ordered.length - 1];
    // A data file name stands for its restore point on every disk: vda.diff.T.data selects vdb's diff T too.
    const named = parseDataFileName(until);
    if (named?.level === "inc")
        until = named.ident ?? until;
    const byName = ordered.filter(f => f.name === until ||
        (named !== null && f.level === named.level && f.ident === named.ident) ||
        (f.level === "diff" && f.ident === until));
    if (byName.length > 0)
        return byName[byName.length - 1];
    const byCheckpoint = ordered.filter(f => f.level !== "diff" && f.meta.checkpointName === until);
    if (byCheckpoint.length > 0)
        return byCheckpoint[byCheckpoint.length - 1];
    const diffs = ordered.filter(f => f.level === "diff" && f.meta.checkpointName === until);
    if (diffs.length > 0) {
        throw new ChainError(`no full or incremental backup of disk ${dev} made checkpoint ${until}; ` +
            `differential backups ahead of it can be chosen by file name: ${diffs.map(d => d.name).join(", ")}`);
    }
    throw new ChainError(`no backup of disk ${dev} matches --until ${until}`);
}

function fromFolder(dev: string, own: BackupFile[], until: string | undefined): BackupFile[] {
    if (own.length === 0)
        throw new ChainError(`no data files for disk ${dev}`);
    const ordered = [...own].sort(compareFiles);
    const target = findTarget(dev, ordered, until);
    const end = ordered.indexOf(target);
    let start = -1;
    for (let i = end; i >= 0; i--) {
        if (isBase(ordered[i])) {
            start = i;
            break;
        }
    }
    if (start < 0)
        throw new ChainError(`no full or copy backup of disk ${dev} precedes ${target.name}`, target.name);
    const members = [ordered[start]];
    for (let i = start + 1; i <= end; i++) {
        const f = ordered[i];
        // Only the target may be a diff; diffs before it are superseded by the incs/diff that follow.
        if (f.level === "inc" || f === target)
            members.push(f);
    }
    return members;
}

/** Each incremental member must continue from the checkpoint of the member before it. */
function checkContinuity(members: BackupFile[]): void {
    const base = members[0];
    let last = base;
    for (const f of members.slice(1)) {
        if (isBase(f)) {
            if (f.meta.virtualSize !== base.meta.virtualSize || f.meta.diskFormat !== base.meta.diskFormat)
                throw new ChainError(`${f.name}: disk size or format differs from ${base.name}`, f.name);
            last = f;
            continue;
        }
        if (f.meta.parentCheckpoint !== last.meta.checkpointName) {
            throw new ChainError(`${f.name}: chain gap: it continues from checkpoint ${f.meta.parentCheckpoint}, ` +
                `but the backup before it, ${last.name}, ends at ${last.meta.checkpointName}`, f.name);
        }
        if (f.meta.virtualSize !== base.meta.virtualSize) {
            throw new ChainError(`${f.name}: disk size ${f.meta.virtualSize} differs from ${base.meta.virtualSize} of ${base.name}: ` +
                `the file belongs to another disk or VM`, f.name);
        }
        if (f.meta.diskFormat !== base.meta.diskFormat) {
            throw new ChainError(`${f.name}: disk format ${f.meta.diskFormat} differs from ${base.meta.diskFormat} of ${base.name}`, f.name);
        }
        if (dateKey(f) !== 0 && dateKey(last) !== 0 && dateKey(f) < dateKey(last)) {
            throw new ChainError(`${f.name}: made ${f.meta.date}, before ${last.name} (${last.meta.date}) it builds on: ` +
                `it belongs to another chain or VM`, f.name);
        }
        if (f.level === "inc")
            last = f;
    }
}

/**
 * Files that record the VM they were made of (our meta frame's domainUuid; the other tool's files do
 * not) must all be of the folder's VM, or, when the folder does not say, of one VM.
 */
export function checkOwners(members: BackupFile[], owner: FileOwner | null): void {
    let reference: BackupFile | undefined;
    for (const f of members) {
        const uuid = f.meta.domainUuid?.toLowerCase();
        if (uuid === undefined)
            continue;
        if (owner) {
            if (uuid !== owner.uuid.toLowerCase()) {
                throw new ChainError(`${f.name}: made of the VM with UUID ${uuid}, but this backup is of the VM with UUID ` +
                    `${owner.uuid.toLowerCase()} (${owner.from}): the file belongs to another VM`, f.name);
            }
        } else if (!reference) {
            reference = f;
        } else if (uuid !== reference.meta.domainUuid!.toLowerCase()) {
            throw new ChainError(`${f.name}: made of the VM with UUID ${uuid}, but ${reference.name} of the VM with UUID ` +
                `${reference.meta.domainUuid!.toLowerCase()}: the chain mixes files of two VMs`, f.name);
        }
    }
}

/** Every checkpoint the chain relies on must be in `<vm>.cpt`: a file whose checkpoint is not is from elsewhere. */
function checkListed(members: BackupFile[], checkpoints: string[] | null): void {
    if (checkpoints === null || members[0].level === "copy")
        return;
    const listed = new Set(checkpoints);
    for (const f of members) {
        const relied = f.level === "diff" ? f.meta.parentCheckpoint : f.meta.checkpointName;
        if (!listed.has(relied)) {
            throw new ChainError(`${f.name}: checkpoint ${relied} is not in this backup's checkpoint list ` +
                `(${checkpoints.join(", ") || "empty"}): the file belongs to another backup or VM`, f.name);
        }
    }
}

/** Restoring the newest state needs an inc for each checkpoint the list names after the base. */
function checkNewestListed(dev: string, members: BackupFile[], checkpoints: string[] | null, sel: Selection): void {
    if (checkpoints === null || members[0].level === "copy" || sel.until !== undefined || sel.sequence !== undefined)
        return;
    const last = members[members.length - 1];
    const reached = last.level === "diff" ? last.meta.parentCheckpoint : last.meta.checkpointName;
    const missing = checkpoints.slice(checkpoints.indexOf(reached) + 1);
    if (missing.length > 0) {
        throw new ChainError(`disk ${dev}: the checkpoint list names ${missing.join(", ")} after ${reached}, ` +
            `but no incremental backup of ${dev} for ${missing.length > 1 ? "them" : "it"} is here (missing file: ` +
            `${dev}.inc.${missing[0]}.data)`, `${dev}.inc.${missing[0]}.data`);
    }
}

function skipReason(f: BackupFile, members: BackupFile[]): string {
    const first = members[0];
    const last = members[members.length - 1];
    const order = compareFiles(f, first);
    if (order < 0)
        return `older than the chain's base ${first.name}`;
    if (compareFiles(f, last) > 0)
        return `after the restore point ${last.name}`;
    if (f.level === "diff")
        return "superseded by a later backup with the same parent";
    return "not selected";
}
