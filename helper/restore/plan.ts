// SPDX-License-Identifier: GPL-3.0-or-later
// From a backup folder and the user's selection to one job per disk, with every refusal decided before
// anything is written: the shared check of the point (check-point.ts, which verify runs too), then the
// output names and image options.
import fsp from "node:fs/promises";
import path from "node:path";
import { identOf } from "./boot-files.ts";
import { ChainError, type BackupFile, type Chain } from "./chain.ts";
import { checkPoint, type PointSelection } from "./check-point.ts";
import type { DiskConfig } from "../libvirt/domain-xml.ts";
import { restoredFileName } from "./domain-config.ts";
import { readBackupFolder, type BackupFolder, type SavedConfig } from "./folder.ts";
import type { VmIdentity } from "./identity.ts";
import { qcow2Params } from "../image/qcow2-params.ts";
import { readQcowInfo } from "./qcow-info.ts";
import type { RawImageJob } from "./raw-image.ts";
import type { DiskJob } from "./restore-disk.ts";

export interface RestoreSelection extends PointSelection {
    input: string;
    output: string;
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

/** Reads the backup folder; throws when it is not one that can be read at all. */
export async function openBackupFolder(input: string): Promise<BackupFolder> {
    let stat;
    try {
        stat = await fsp.stat(input);
    } catch {
        throw new ChainError(`backup folder ${input} does not exist`);
    }
    if (!stat.isDirectory())
        throw new ChainError(`${input} is not a folder`);
    return readBackupFolder(input);
}

/** The qcow2 options saved with the backup, refused with the file's name when qemu could not use them. */
function imageOptions(saved: { file: string; info: unknown } | null) {
    try {
        return qcow2Params(saved?.info ?? null);
    } catch (err) {
        throw new ChainError(`${saved?.file}: ${(err as Error).message}`);
    }
}

export async function planRestore(sel: RestoreSelection): Promise<RestorePlan> {
    const folder = await openBackupFolder(sel.input);
    const checked = await checkPoint(folder, sel);
    const { identity, config, chains, point, excluded } = checked;
    const configDisks = new Map<string, DiskConfig>((config?.config.disks ?? []).map(d => [d.target, d]));

    const outputs = new Set<string>();
    const outputName = (dev: string): string => {
        // A --sequence restore names its image after the disk (vda), as the Python tool does; scripts rely on it.
        let name = sel.sequence ? dev : restoredFileName(configDisks.get(dev), dev);
        if (outputs.has(name))
            name = `${dev}.${name}`;
        outputs.add(name);
        return name;
    };
    const jobs: DiskJob[] = [];
    for (const chain of chains) {
        const base = chain.members[0];
        const name = outputName(chain.dev);
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
            qcow2: imageOptions(info),
        });
    }
    const rawJobs: RawImageJob[] = checked.rawImages.map(r => ({ dev: r.dev, dir: folder.dir, name: r.name, output: "" }));
    for (const raw of rawJobs)
        raw.output = path.resolve(sel.output, outputName(raw.dev));
    return { folder, identity, config, jobs, rawJobs, point, chains, excluded, warnings: checked.warnings };
}
