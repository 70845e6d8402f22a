// The restore action: plan, rebuild every disk as a partial image, publish them together, then write
// (and optionally define) the domain config. Either every disk of the run gets its final name or none.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { virsh } from "../libvirt/virsh.ts";
import { adjustDomainConfig } from "./domain-config.ts";
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
    | { event: "disk"; disk: string; output: string; bytes: number };

export interface RestoreResult {
    disks: { disk: string; output: string; files: string[]; bytes: number; checksums: { file: string; status: string }[] }[];
    /** Domain config written to the output folder. */
    config?: string;
    /** Name of the VM defined in libvirt. */
    defined?: string;
    warnings: string[];
}

export async function runRestore(req: RestoreRequest, opts: { signal?: AbortSignal; onEvent?: (e: RestoreEvent) => void } = {}): Promise<RestoreResult> {
    const { signal, onEvent } = opts;
    const emit = (e: RestoreEvent) => onEvent?.(e);
    const plan = await planRestore(req);
    for (const message of plan.warnings)
        emit({ event: "warning", message });
    emit({
        event: "plan",
        disks: plan.jobs.map(j => ({ disk: j.dev, files: j.members.map(m => m.name), output: j.output, total: j.members.reduce((s, m) => s + m.meta.dataSize, 0) })),
    });
    const adjust = (req.adjustConfig || req.define) && req.sequence === undefined;
    const configTarget = plan.config ? path.resolve(req.output, plan.config.name) : undefined;
    await fsp.mkdir(req.output, { recursive: true });
    // Refuse before any work when an output exists.
    for (const target of [...plan.jobs.map(j => j.output), ...(adjust && configTarget ? [configTarget] : [])]) {
        if (fs.existsSync(target))
            throw new Error(`${target} already exists; refusing to overwrite it`);
    }

    const done: DiskResult[] = [];
    const dropPartials = () => {
        for (const d of done) {
            try {
                fs.rmSync(d.partial, { force: true });
            } catch {
                // exiting anyway
            }
        }
    };
    emergencyCleanup.add(dropPartials);
    try {
        for (const job of plan.jobs) {
            const result = await restoreDisk(job, {
                signal,
                tuning: req.tuning,
                onProgress: p => emit({ event: "progress", disk: p.dev, done: p.done, total: p.total, file: p.file }),
            });
            done.push(result);
        }
        signal?.throwIfAborted();
        const published: DiskResult[] = [];
        try {
            for (const d of done) {
                await d.publish();
                published.push(d);
            }
        } catch (err) {
            // All or nothing: take back the names already given in this run.
            for (const d of published)
                await fsp.rm(d.file, { force: true }).catch(() => {});
            throw err;
        }
    } catch (err) {
        await Promise.all(done.map(d => d.discard()));
        throw err;
    } finally {
        emergencyCleanup.delete(dropPartials);
    }
    for (const d of done)
        emit({ event: "disk", disk: d.dev, output: d.file, bytes: d.bytes });

    const result: RestoreResult = {
        disks: done.map(d => ({ disk: d.dev, output: d.file, files: d.files, bytes: d.bytes, checksums: d.checksums })),
        warnings: [...plan.warnings],
    };
    if (plan.config && configTarget && req.sequence === undefined) {
        const original = await fsp.readFile(path.join(plan.folder.dir, plan.config.name), "utf8");
        const name = req.name ?? `restore_${plan.config.config.name}`;
        const xml = adjust
            ? adjustDomainConfig(original, { name, restored: new Map(done.map(d => [d.dev, d.file])) })
            : original;
        if (!adjust && fs.existsSync(configTarget)) {
            result.warnings.push(`${configTarget} exists: the original config was not copied`);
        } else {
            await fsp.writeFile(configTarget, xml, { flag: "wx" });
            result.config = configTarget;
        }
        if (req.define) {
            await virsh(["define", configTarget], { uri: req.uri });
            result.defined = name;
        }
    } else if (req.adjustConfig || req.define) {
        const message = req.sequence ? "a --sequence restore writes no domain config" : "the backup holds no domain config (vmconfig.*.xml)";
        result.warnings.push(message);
        emit({ event: "warning", message });
    }
    return result;
}
