// SPDX-License-Identifier: GPL-3.0-or-later
// The restore action: plan, write the restore point's boot files, rebuild every disk, write the domain
// config, all under partial names, then name them together and optionally define the VM. Either
// everything the run creates gets its final name, or nothing of it is left.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { virsh } from "../libvirt/virsh.ts";
import { createMissing, qemuUsers, resolveTrustedFolder } from "../fs/trusted-folder.ts";
import { identsUpTo, planBootFiles } from "./boot-files.ts";
import { adjustDomainConfig, type BootKind } from "./domain-config.ts";
import { restoreRawImage } from "./raw-image.ts";
import { StagedFile } from "./staged-file.ts";
import { planRestore, type RestoreSelection } from "./plan.ts";
import { emergencyCleanup, restoreDisk, type DiskResult, type RestoreTuning } from "./restore-disk.ts";

export interface RestoreRequest extends RestoreSelection {
    /** Write an adjusted domain config (-c). */
    adjustConfig?: boolean;
    /** Define the restored VM in libvirt (-D; implies adjustConfig). */
    define?: boolean;
    /** Name of the restored VM (-N); default restore_<vm>. */
    name?: string;
    /** libvirt URI for --define. */
    uri?: string;
    tuning?: RestoreTuning;
}

export type RestoreEvent =
    | { event: "warning"; message: string }
    | { event: "plan"; disks: { disk: string; files: string[]; output: string; total: number }[] }
    | { event: "progress"; disk: string; done: number; total: number; file: string }
    | { event: "disk"; disk: string; output: string; bytes: number }
    | ({ event: "boot-file" } & BootFileResult);

/** What became of one boot file the restore point's config names. */
export interface BootFileResult {
    kind: BootKind;
    /** The path the saved config names. */
    configured: string;
    /** The saved copy used (base name in the backup folder), null when there is none for the point. */
    saved: string | null;
    /**
     * restored: written to `output`; exists: the configured path is there and was left as it is (used by
     * the new VM for a loader); missing: no saved copy for the point and nothing written.
     */
    status: "restored" | "exists" | "missing";
    output?: string;
}

export interface RestoreResult {
    disks: { disk: string; output: string; files: string[]; bytes: number; checksums: { file: string; status: string }[] }[];
    /** Domain config written to the output folder. */
    config?: string;
    /** Name of the VM defined in libvirt. */
    defined?: string;
    bootFiles: BootFileResult[];
    warnings: string[];
}

export async function runRestore(req: RestoreRequest, opts: { signal?: AbortSignal; onEvent?: (e: RestoreEvent) => void } = {}): Promise<RestoreResult> {
    const { signal, onEvent } = opts;
    // Both folders are found trusted once (helper/fs/trusted-folder.ts) and used by their real paths from
    // here on: no other user can change what they lead to. The backup folder too, as its saved config
    // names the places boot files are restored to.
    const target = resolveTrustedFolder(req.output, "a restore folder");
    req = { ...req, input: fs.existsSync(req.input) ? resolveTrustedFolder(req.input, "a backup folder restored from").folder : req.input, output: target.folder };
    const emit = (e: RestoreEvent) => onEvent?.(e);
    const plan = await planRestore(req);
    const warnings = [...plan.warnings];
    const warn = (message: string) => {
        warnings.push(message);
        emit({ event: "warning", message });
    };
    for (const message of plan.warnings)
        emit({ event: "warning", message });
    const diskJobs = [...plan.jobs.map(j => ({ dev: j.dev, files: j.members.map(m => m.name), output: j.output, total: j.members.reduce((s, m) => s + m.meta.dataSize, 0) })),
        ...plan.rawJobs.map(r => ({ dev: r.dev, files: [r.name], output: r.output, total: 0 }))];
    emit({ event: "plan", disks: diskJobs.map(j => ({ disk: j.dev, files: j.files, output: j.output, total: j.total })) });
    const adjust = (req.adjustConfig || req.define) && req.sequence === undefined;
    const configTarget = plan.config ? path.resolve(req.output, plan.config.name) : undefined;
    const name = req.name ?? (plan.config ? `restore_${plan.config.config.name}` : "");

    // Boot files of the restore point; a --sequence restore (one disk's files) has none.
    const boot = plan.config && req.sequence === undefined
        ? planBootFiles({
            config: plan.config.config,
            idents: plan.point ? identsUpTo(plan.folder.files, plan.point) : [plan.config.ident],
            names: new Set(await fsp.readdir(plan.folder.dir)),
            newVm: adjust ? { name, output: path.resolve(req.output) } : null,
            taken: new Set([...diskJobs.map(j => path.basename(j.output)), ...(configTarget ? [path.basename(configTarget)] : [])]),
            exists: file => fs.existsSync(file),
        })
        : undefined;
    for (const message of boot?.warnings ?? [])
        warn(message);
    const bootCopies = boot?.steps.filter(s => s.action === "copy") ?? [];

    // 0700; 0711 for a VM's config (-c/-D): QEMU runs as its own user and must reach the images (0600,
    // given to that user by libvirt when the VM starts).
    createMissing(target, "a restore folder", adjust ? 0o711 : 0o700);
    // Refuse before any work when an output exists.
    const ownTargets = [...diskJobs.map(j => j.output), ...(adjust && configTarget ? [configTarget] : []), ...(adjust ? bootCopies.map(s => s.target!) : [])];
    for (const target of ownTargets) {
        if (fs.existsSync(target))
            throw new Error(`${target} already exists; refusing to overwrite it`);
    }

    // Everything is written under a partial name first and named together at the end; a failure
    // anywhere removes all of it (also what was already named).
    const done: DiskResult[] = [];
    const staged: StagedFile[] = [];
    let published: { discard(): Promise<void> }[] = [];
    const dropPartials = () => {
        for (const d of done) {
            try {
                fs.rmSync(d.partial, { force: true });
            } catch {
                // exiting anyway
            }
        }
        for (const f of [...staged].reverse())
            f.discardNow();
    };
    emergencyCleanup.add(dropPartials);
    const result: RestoreResult = { disks: [], bootFiles: [], warnings };
    try {
        // Boot files first: small, and a target that cannot be written stops the run before the disks.
        for (const step of bootCopies) {
            signal?.throwIfAborted();
            // Folders made for a boot file at its configured place are libvirt's kind: QEMU must reach them.
            staged.push(await StagedFile.stage(step.target!, { from: path.join(plan.folder.dir, step.saved!) }, 0o755, { alsoOwners: qemuUsers() }));
        }
        for (const job of plan.jobs) {
            done.push(await restoreDisk(job, {
                signal,
                tuning: req.tuning,
                onProgress: p => emit({ event: "progress", disk: p.dev, done: p.done, total: p.total, file: p.file }),
            }));
        }
        for (const job of plan.rawJobs) {
            done.push(await restoreRawImage(job, {
                signal,
                tuning: req.tuning,
                onProgress: p => emit({ event: "progress", disk: p.dev, done: p.done, total: p.total, file: p.file }),
            }));
        }
        let configFile: StagedFile | undefined;
        if (plan.config && configTarget && req.sequence === undefined) {
            const original = await fsp.readFile(path.join(plan.folder.dir, plan.config.name), "utf8");
            const xml = adjust
                ? adjustDomainConfig(original, { name, restored: new Map(done.map(d => [d.dev, d.file])), boot: boot?.configBoot })
                : original;
            if (!adjust && fs.existsSync(configTarget)) {
                warn(`${configTarget} exists: the original config was not copied`);
            } else {
                configFile = await StagedFile.stage(configTarget, { data: xml });
                staged.push(configFile);
            }
        } else if (req.adjustConfig || req.define) {
            warn(req.sequence ? "a --sequence restore writes no domain config" : "the backup holds no domain config (vmconfig.*.xml)");
        }
        signal?.throwIfAborted();

        for (const d of done) {
            await d.publish();
            published.push({ discard: () => fsp.rm(d.file, { force: true }).catch(() => {}) });
        }
        for (const f of staged)
            await f.publish();
        if (configFile)
            result.config = configFile.target;
        if (req.define && result.config) {
            await virsh(["define", result.config], { uri: req.uri });
            result.defined = name;
        }
    } catch (err) {
        // All or nothing: take back the names already given in this run, and every partial.
        await Promise.all(published.map(p => p.discard()));
        published = [];
        await Promise.all(done.map(d => d.discard()));
        for (const f of [...staged].reverse())
            await f.discard();
        throw err;
    } finally {
        emergencyCleanup.delete(dropPartials);
    }
    for (const d of done)
        emit({ event: "disk", disk: d.dev, output: d.file, bytes: d.bytes });
    result.disks = done.map(d => ({ disk: d.dev, output: d.file, files: d.files, bytes: d.bytes, checksums: d.checksums }));
    for (const step of boot?.steps ?? []) {
        const entry: BootFileResult = { kind: step.kind, configured: step.configured, saved: step.saved, status: step.action === "copy" ? "restored" : step.action, ...(step.target ? { output: step.target } : {}) };
        result.bootFiles.push(entry);
        emit({ event: "boot-file", ...entry });
        if (step.action === "exists" && !adjust && step.saved && !await sameContent(step.configured, path.join(plan.folder.dir, step.saved)))
            warn(`${step.kind} ${step.configured} exists and differs from the backup's ${step.saved}: left as it is (remove it to restore the saved one)`);
    }
    return result;
}

/** Whether two (small) files hold the same bytes; false when either cannot be read. */
async function sameContent(a: string, b: string): Promise<boolean> {
    try {
        const [x, y] = await Promise.all([fsp.readFile(a), fsp.readFile(b)]);
        return x.equals(y);
    } catch {
        return false;
    }
}
