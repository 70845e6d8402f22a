// SPDX-License-Identifier: GPL-3.0-or-later
// The backup folder: can we write there, what chain does it hold, and the files saved beside the data.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { checkpointListFileName, parseDataFileName, PARTIAL_SUFFIX, qcowInfoFileName, vmConfigFileName } from "../format/index.ts";
import { BOOT_KINDS, type DiskConfig, type DomainConfig } from "../libvirt/domain-xml.ts";
import type { RunJournal } from "./journal.ts";
import { qemuImgInfo } from "../tools/run-tool.ts";
import { BackupRefusedError, type LevelPlan } from "./levels.ts";
import { errorMessage } from "./types.ts";
import { createMissing, prepareTrustedFolder, resolveTrustedFolder, UntrustedFolderError } from "../fs/trusted-folder.ts";
import { openAppend, writeFileAtomic as writeFileAtomicSafely } from "../fs/safe-open.ts";

/**
 * The target folder, trusted (helper/fs/trusted-folder.ts) and made (0700) when missing: its real path,
 * used for everything after, and the topmost folder it made, if any (see removeMadeFolder).
 */
export function prepareFolder(output: string): { folder: string; made: string | undefined } {
    try {
        return prepareTrustedFolder(output, "a backup folder");
    } catch (err) {
        if (err instanceof UntrustedFolderError && err.kind === "untrusted")
            throw new BackupRefusedError(err.message);
        throw new BackupRefusedError(`cannot write to the target folder ${output}: ${errorMessage(err)}`);
    }
}

/**
 * A run that made no backup leaves no folder behind either: removes the folders prepareFolder made, from
 * `output` up to `made`, as long as they are empty (a failed run's log file keeps them).
 */
export function removeMadeFolder(output: string, made: string | undefined): void {
    if (!made)
        return;
    for (let dir = path.resolve(output); ; dir = path.dirname(dir)) {
        try {
            fs.rmdirSync(dir);
        } catch {
            return;
        }
        if (dir === path.resolve(made) || dir === path.dirname(dir))
            return;
    }
}

export function readFolder(output: string, vm: string) {
    const names = fs.readdirSync(output);
    const cptFile = path.join(output, checkpointListFileName(vm));
    let checkpoints: string[] = [];
    if (fs.existsSync(cptFile)) {
        try {
            const parsed: unknown = JSON.parse(fs.readFileSync(cptFile, "utf8"));
            if (!Array.isArray(parsed) || !parsed.every(n => typeof n === "string"))
                throw new Error("not a list of names");
            checkpoints = parsed;
        } catch (err) {
            throw new BackupRefusedError(`the checkpoint list ${cptFile} is unreadable: ${errorMessage(err)}`);
        }
    }
    return {
        checkpoints,
        hasData: names.some(n => parseDataFileName(n) !== null),
        partials: names.filter(n => n.endsWith(PARTIAL_SUFFIX)),
    };
}

/**
 * `qemu-img info` of each qcow2 disk, by target, for the `<dev>.<ident>.qcow.json` sidecars (asked
 * apart from writing them, so that a run can ask while its job ends).
 */
export async function qcowInfos(disks: DiskConfig[]): Promise<Map<string, string>> {
    const qcow2 = disks.filter(d => d.driverType === "qcow2" && d.path);
    const infos = await Promise.all(qcow2.map(d => qemuImgInfo(d.path!)));
    return new Map(qcow2.map((d, i) => [d.target, infos[i]]));
}

/** The files saved beside the data: the VM definition, `qcowInfos`' results, boot files (firmware, kernel). */
export async function saveSidecars(output: string, domain: DomainConfig, plan: LevelPlan, vmConfig: string, infos: Map<string, string>, journal: RunJournal) {
    const write = (name: string, data: string | Buffer) => {
        const file = path.join(output, name);
        journal.add(name);
        writeFileAtomic(file, data);
    };
    write(vmConfigFileName(plan.ident), vmConfig);
    for (const [target, info] of infos)
        write(qcowInfoFileName(target, plan.ident), info);
    for (const bootFile of BOOT_KINDS.map(kind => domain.boot[kind])) {
        if (bootFile && fs.existsSync(bootFile))
            write(`${path.basename(bootFile)}.${plan.ident}`, await fsp.readFile(bootFile));
    }
}

/** A file of the folder (sidecar, checkpoint list), replaced atomically, 0600: see helper/fs/safe-open.ts. */
export function writeFileAtomic(file: string, data: string | Buffer) {
    writeFileAtomicSafely(file, data, 0o600);
}

/** The run's log: appended to, never through a symlink (helper/fs/safe-open.ts), 0600. */
export function openRunLog(file: string): fs.WriteStream {
    return fs.createWriteStream(file, { fd: openAppend(file, 0o600) });
}

/** The folder's checkpoints/ subfolder, made 0700 when missing (inside the trusted folder). */
export function makeCheckpointDir(dir: string): void {
    createMissing(resolveTrustedFolder(dir, "a backup folder"), "a backup folder");
}
