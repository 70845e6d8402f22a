// SPDX-License-Identifier: GPL-3.0-or-later
// File names of a virtnbdbackup backup folder: the one place that builds and parses them. "ident" is the
// checkpoint name (virtnbdbackup.N) for full and inc, unix seconds for diff, and "copy" for copy backups.
// Checkpoint names and levels are the page's contract too: they live in helper/protocol/ (pure, no imports)
// and are re-exported here, so there is one definition of each.
import type { Level } from "../protocol/levels.ts";

export { CHECKPOINT_PREFIX, checkpointIndex, checkpointName, isCheckpointName } from "../protocol/point-names.ts";

export type BackupLevel = Level;

export const PARTIAL_SUFFIX = ".partial";
export const CHECKSUM_SUFFIX = ".chksum";

/** `vda.full.data`, `vda.copy.data`, `vda.inc.virtnbdbackup.3.data`, `vda.diff.1700000000.data`. */
export function dataFileName(dev: string, level: BackupLevel, ident?: string | number): string {
    checkPart("dev", dev);
    if (level === "full" || level === "copy") return `${dev}.${level}.data`;
    if (ident === undefined || ident === "") throw new Error(`a ${level} data file name needs an ident`);
    checkPart("ident", String(ident), true);
    return `${dev}.${level}.${ident}.data`;
}

/**
 * A full backup made inside an existing chain (the chain's bitmap was lost): `vda.full.virtnbdbackup.4.data`.
 * Named by its checkpoint so it stands beside the chain's first `vda.full.data`.
 */
export function chainFullFileName(dev: string, checkpoint: string): string {
    checkPart("dev", dev);
    checkPart("checkpoint", checkpoint, true);
    return `${dev}.full.${checkpoint}.data`;
}

export function partialFileName(name: string): string {
    return name + PARTIAL_SUFFIX;
}

export function checksumFileName(dataFile: string): string {
    return dataFile + CHECKSUM_SUFFIX;
}

export function vmConfigFileName(ident: string | number): string {
    return `vmconfig.${ident}.xml`;
}

/** The ident of a saved config `vmconfig.<ident>.xml`; null for any other name. */
export function parseVmConfigFileName(name: string): string | null {
    return /^vmconfig\.(.+)\.xml$/.exec(name)?.[1] ?? null;
}

/** Saved `qemu-img info --output json` of a disk. */
export function qcowInfoFileName(dev: string, ident: string | number): string {
    return `${dev}.${ident}.qcow.json`;
}

/** Disk and ident of a saved `<dev>.<ident>.qcow.json`; null for any other name. */
export function parseQcowInfoFileName(name: string): { dev: string; ident: string } | null {
    const m = /^([^./]+)\.(.+)\.qcow\.json$/.exec(name);
    return m ? { dev: m[1], ident: m[2] } : null;
}

/** `<vm>.cpt`, the chain's checkpoint list. */
export function checkpointListFileName(vm: string): string {
    return `${vm}.cpt`;
}

/** The VM of a checkpoint list `<vm>.cpt`; null for any other name. */
export function parseCheckpointListFileName(name: string): string | null {
    return /^([^/]+)\.cpt$/.exec(name)?.[1] ?? null;
}

/** `checkpoints/<name>.xml`, relative to the backup folder. */
export function checkpointXmlPath(checkpoint: string): string {
    return `checkpoints/${checkpoint}.xml`;
}

/** `backup.<level>.<MMDDYYYYHHMMSS>.log` in local time, like the other tool. */
export function logFileName(level: string, date: Date): string {
    const p = (n: number) => String(n).padStart(2, "0");
    const stamp = `${p(date.getMonth() + 1)}${p(date.getDate())}${date.getFullYear()}` +
        `${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
    return `backup.${level}.${stamp}.log`;
}

/** Whether `name` is a run's log (logFileName). */
export function isLogFileName(name: string): boolean {
    return /^backup\.[a-z]+\.\d{14}\.log$/.test(name);
}

export interface DataFileName {
    dev: string;
    level: BackupLevel;
    /**
     * "copy" for copy, the name's ident for inc/diff and for a full made inside a chain, null for the
     * chain's first full (its checkpoint is in the meta frame).
     */
    ident: string | null;
}

/** Parses a data file's base name (not .partial, not .chksum); null when it is not one. */
export function parseDataFileName(name: string): DataFileName | null {
    let m = /^([^./]+)\.(full|copy)\.data$/.exec(name);
    if (m) return { dev: m[1], level: m[2] as BackupLevel, ident: m[2] === "copy" ? "copy" : null };
    m = /^([^./]+)\.(full|inc|diff)\.([^/]+)\.data$/.exec(name);
    if (m) return { dev: m[1], level: m[2] as BackupLevel, ident: m[3] };
    return null;
}

function checkPart(what: string, value: string, dotsAllowed = false): void {
    if (value === "" || value.includes("/") || (!dotsAllowed && value.includes("."))) {
        throw new Error(`invalid ${what} for a backup file name: ${JSON.stringify(value)}`);
    }
}

/** A boot file (loader, NVRAM, kernel, initrd) saved beside the data: `<basename>.<ident>`, e.g. `VM_VARS.fd.virtnbdbackup.0`. */
export function bootFileName(source: string, ident: string | number): string {
    const base = source.slice(source.lastIndexOf("/") + 1);
    checkPart("boot file", base, true);
    checkPart("ident", String(ident), true);
    return `${base}.${ident}`;
}

/** Whether `name` could be a boot file saved for `ident` (bootFileName): `<basename>.<ident>`. */
export function isBootFileNameFor(name: string, ident: string): boolean {
    return name.endsWith(`.${ident}`) && name.length > ident.length + 1 && !name.includes("/");
}

/** A file name without its `.partial` suffix (a data file being written), as it is when finished. */
export function withoutPartialSuffix(name: string): string {
    return name.endsWith(PARTIAL_SUFFIX) ? name.slice(0, -PARTIAL_SUFFIX.length) : name;
}
