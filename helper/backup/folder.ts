// The backup folder: can we write there, what chain does it hold, and the files saved beside the data.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { checkpointListFileName, parseDataFileName, qcowInfoFileName, vmConfigFileName } from "../format/index.ts";
import type { DiskConfig, DomainConfig } from "../libvirt/domain-xml.ts";
import type { RunJournal } from "./journal.ts";
import { qemuImgInfo } from "../tools/run-tool.ts";
import { BackupRefusedError, type LevelPlan } from "./levels.ts";
import { errorMessage } from "./types.ts";

/** Makes the target folder when missing; returns the topmost folder it made, if any (see removeMadeFolder). */
export function prepareFolder(output: string): string | undefined {
    try {
        const made = fs.mkdirSync(output, { recursive: true });
        if (!fs.statSync(output).isDirectory())
            throw new BackupRefusedError(`${output} is not a directory`);
        fs.accessSync(output, fs.constants.W_OK);
        return made;
    } catch (err) {
        if (err instanceof BackupRefusedError)
            throw err;
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
        partials: names.filter(n => n.endsWith(".partial")),
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
    for (const bootFile of [domain.loader, domain.nvram, domain.kernel, domain.initrd]) {
        if (bootFile && fs.existsSync(bootFile))
            write(`${path.basename(bootFile)}.${plan.ident}`, await fsp.readFile(bootFile));
    }
}

export function writeFileAtomic(file: string, data: string | Buffer) {
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
}
