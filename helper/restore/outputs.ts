// SPDX-License-Identifier: GPL-3.0-or-later
// What a restore run will write, decided before it writes anything: each disk's image, the restore point's
// boot files (onto their configured paths, or beside a new VM), the domain config (as saved, or adjusted
// for a new VM with -c/-D). The output folder is made, and the run refused when any of these exists.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { createMissing, type TrustedFolder } from "../fs/trusted-folder.ts";
import { identsUpTo, planBootFiles, type BootPlan, type BootStep } from "./boot-files.ts";
import type { RestorePlan } from "./plan.ts";
import type { RestoreRequest } from "./restore.ts";

export interface RestoreOutputs {
    /** One row per disk, restored from its chain or copied as its raw image. */
    disks: { dev: string; files: string[]; output: string; total: number }[];
    /** A new VM's config is written (-c/-D, not for a --sequence restore). */
    adjust: boolean;
    /** Where the domain config goes, when the backup has one. */
    configTarget: string | undefined;
    /** The restored VM's name (-N; default restore_<vm>). */
    name: string;
    /** The boot files of the restore point; none for a --sequence restore (one disk's files). */
    boot: BootPlan | undefined;
    /** The boot files that are written. */
    bootCopies: BootStep[];
}

export function diskRows(plan: RestorePlan): RestoreOutputs["disks"] {
    return [...plan.jobs.map(j => ({ dev: j.dev, files: j.members.map(m => m.name), output: j.output, total: j.members.reduce((s, m) => s + m.meta.dataSize, 0) })),
        ...plan.rawJobs.map(r => ({ dev: r.dev, files: [r.name], output: r.output, total: 0 }))];
}

export async function planOutputs(req: RestoreRequest, plan: RestorePlan, warn: (message: string) => void): Promise<RestoreOutputs> {
    const disks = diskRows(plan);
    const adjust = Boolean(req.adjustConfig || req.define) && req.sequence === undefined;
    const configTarget = plan.config ? path.resolve(req.output, plan.config.name) : undefined;
    const name = req.name ?? (plan.config ? `restore_${plan.config.config.name}` : "");
    const boot = plan.config && req.sequence === undefined
        ? planBootFiles({
            config: plan.config.config,
            idents: plan.point ? identsUpTo(plan.folder.files, plan.point) : [plan.config.ident],
            names: new Set(await fsp.readdir(plan.folder.dir)),
            newVm: adjust ? { name, output: path.resolve(req.output) } : null,
            taken: new Set([...disks.map(j => path.basename(j.output)), ...(configTarget ? [path.basename(configTarget)] : [])]),
            exists: file => fs.existsSync(file),
        })
        : undefined;
    for (const message of boot?.warnings ?? [])
        warn(message);
    return { disks, adjust, configTarget, name, boot, bootCopies: boot?.steps.filter(s => s.action === "copy") ?? [] };
}

/** Makes the output folder and refuses, before any work, when an output of this run exists. */
export function prepareOutputFolder(target: TrustedFolder, outputs: RestoreOutputs): void {
    const { adjust, configTarget } = outputs;
    // 0700; 0711 for a VM's config (-c/-D): QEMU runs as its own user and must reach the images (0600,
    // given to that user by libvirt when the VM starts).
    createMissing(target, "a restore folder", adjust ? 0o711 : 0o700);
    const own = [...outputs.disks.map(j => j.output), ...(adjust && configTarget ? [configTarget] : []), ...(adjust ? outputs.bootCopies.map(s => s.target!) : [])];
    for (const file of own) {
        if (fs.existsSync(file))
            throw new Error(`${file} already exists; refusing to overwrite it`);
    }
}
