// SPDX-License-Identifier: GPL-3.0-or-later
// The restore action, as phases: plan (plan.ts, outputs.ts: what is written where, refused when it exists),
// write the restore point's boot files, rebuild every disk, write the domain config, all under partial
// names (write-outputs.ts, each pushing its undo), then name them together and optionally define the VM.
// Either everything the run creates gets its final name, or the undo stack takes all of it back.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { virsh } from "../libvirt/virsh.ts";
import { resolveTrustedFolder } from "../fs/trusted-folder.ts";
import { UndoStack } from "../run/undo-stack.ts";
import type { BootKind } from "../libvirt/domain-xml.ts";
import { diskRows, planOutputs, prepareOutputFolder, type RestoreOutputs } from "./outputs.ts";
import { planRestore, type RestorePlan, type RestoreSelection } from "./plan.ts";
import type { RestoreTuning } from "./restore-disk.ts";
import { publishOutputs, stageBootFiles, stageConfig, writeDisks, type WrittenDisk } from "./write-outputs.ts";

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

/**
 * `undo`: the run's undo stack, when the caller must reach it (a CLI that exits at once on a second signal
 * takes back what the run made with `undo.undoNow()`); the run unwinds it when it fails.
 */
export async function runRestore(req: RestoreRequest, opts: { signal?: AbortSignal; onEvent?: (e: RestoreEvent) => void; undo?: UndoStack } = {}): Promise<RestoreResult> {
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
    emit({ event: "plan", disks: diskRows(plan).map(j => ({ disk: j.dev, files: j.files, output: j.output, total: j.total })) });
    const outputs = await planOutputs(req, plan, warn);
    prepareOutputFolder(target, outputs);

    const undo = opts.undo ?? new UndoStack();
    const result: RestoreResult = { disks: [], bootFiles: [], warnings };
    let disks: WrittenDisk[];
    try {
        const staged = await stageBootFiles(plan, outputs, undo, signal);
        disks = await writeDisks(plan, undo, {
            signal,
            tuning: req.tuning,
            onProgress: p => emit({ event: "progress", disk: p.dev, done: p.done, total: p.total, file: p.file }),
        });
        const configFile = await stageConfig(req, plan, outputs, disks, undo, warn);
        if (configFile)
            staged.push(configFile);
        signal?.throwIfAborted();
        await publishOutputs(disks, staged);
        if (configFile)
            result.config = configFile.target;
        if (req.define && result.config) {
            await virsh(["define", result.config], { uri: req.uri });
            result.defined = outputs.name;
        }
    } catch (err) {
        // All or nothing: take back the names already given in this run, and every partial.
        await undo.unwind(true).catch(() => {});
        throw err;
    }
    for (const { disk: d } of disks) {
        emit({ event: "disk", disk: d.dev, output: d.file, bytes: d.bytes });
        result.disks.push({ disk: d.dev, output: d.file, files: d.files, bytes: d.bytes, checksums: d.checksums });
    }
    await reportBootFiles(plan, outputs, result, emit, warn);
    return result;
}

/** What became of each boot file, as events and in the result; a kept file that differs from the saved one is warned of. */
async function reportBootFiles(plan: RestorePlan, outputs: RestoreOutputs, result: RestoreResult, emit: (e: RestoreEvent) => void, warn: (message: string) => void): Promise<void> {
    for (const step of outputs.boot?.steps ?? []) {
        const entry: BootFileResult = { kind: step.kind, configured: step.configured, saved: step.saved, status: step.action === "copy" ? "restored" : step.action, ...(step.target ? { output: step.target } : {}) };
        result.bootFiles.push(entry);
        emit({ event: "boot-file", ...entry });
        if (step.action === "exists" && !outputs.adjust && step.saved && !await sameContent(step.configured, path.join(plan.folder.dir, step.saved)))
            warn(`${step.kind} ${step.configured} exists and differs from the backup's ${step.saved}: left as it is (remove it to restore the saved one)`);
    }
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
