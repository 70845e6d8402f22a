// SPDX-License-Identifier: GPL-3.0-or-later
// Which saved boot file (loader, NVRAM, kernel, initrd) belongs to a restore point, and where each one
// goes: pure decisions over names; the copying is in staged-file.ts, the order of things in restore.ts.
//
// The backup saves each boot file as `<basename>.<ident>` with the ident of its run. The one for a
// restore point is the newest saved at or before that point (the content the VM had then), not the
// newest in the folder: a later NVRAM belongs to a later state of the disks.
import path from "node:path";
import { bootFileName } from "../format/index.ts";
import { compareFiles, type BackupFile } from "./chain.ts";
import { BOOT_KINDS, type BootKind, type DomainConfig } from "../libvirt/domain-xml.ts";

/** The ident under which a data file's companions (vmconfig, qcow.json, boot files) are saved. */
export function identOf(f: BackupFile): string {
    return f.level === "full" ? f.meta.checkpointName : f.ident ?? f.meta.checkpointName;
}

/** Idents of the backups made at or before `point` (any disk), newest first, each once. */
export function identsUpTo(files: BackupFile[], point: BackupFile): string[] {
    const idents: string[] = [];
    for (const f of [...files].sort(compareFiles).reverse()) {
        if (f !== point && compareFiles(f, point) > 0)
            continue;
        const ident = identOf(f);
        if (!idents.includes(ident))
            idents.push(ident);
    }
    // The point's own run first, whatever the order of disks of that run.
    const own = identOf(point);
    return [own, ...idents.filter(i => i !== own)];
}

/** The saved copy of `configured` for the newest of `idents` that has one; null when none has. */
export function chooseBootFile(configured: string, idents: string[], names: ReadonlySet<string>): { name: string; ident: string } | null {
    for (const ident of idents) {
        const name = bootFileName(configured, ident);
        if (names.has(name))
            return { name, ident };
    }
    return null;
}

/** What happens to one configured boot file. */
export interface BootStep {
    kind: BootKind;
    /** The path the saved config names. */
    configured: string;
    /** The saved copy in the backup folder (base name), or null when there is none for the point. */
    saved: string | null;
    /** Where the saved copy is written; null when nothing is written. */
    target: string | null;
    /**
     * copy: written to target; exists: the configured path is there and is used as it is (target null);
     * missing: no saved copy for the point, nothing written.
     */
    action: "copy" | "exists" | "missing";
}

export interface BootPlan {
    steps: BootStep[];
    /** Paths for the adjusted config (-c/-D): kind -> copy in the output folder. */
    configBoot: Partial<Record<BootKind, string>>;
    warnings: string[];
}

export interface BootPlanInput {
    config: DomainConfig;
    /** Idents at or before the restore point, newest first (identsUpTo). */
    idents: string[];
    /** Base names of the backup folder's files. */
    names: ReadonlySet<string>;
    /**
     * A new VM beside the original (-c/-D): its name and the output folder; null for a restore onto the
     * original's paths (the original VM is gone).
     */
    newVm: { name: string; output: string } | null;
    /** Base names already taken in the output folder by this run (disks, config). */
    taken: ReadonlySet<string>;
    exists(file: string): boolean;
}

/**
 * Onto the original paths: every boot file whose path is free is copied there; an existing file is never
 * replaced. For a new VM: NVRAM, kernel and initrd are copied into the output folder (NVRAM as
 * `<name>_VARS.fd`, never shared with the original), the loader (shared read-only firmware) only when
 * the configured one is not on this host.
 */
export function planBootFiles(input: BootPlanInput): BootPlan {
    const steps: BootStep[] = [];
    const configBoot: Partial<Record<BootKind, string>> = {};
    const warnings: string[] = [];
    const taken = new Set(input.taken);
    const outputName = (kind: BootKind, configured: string): string => {
        const wanted = kind === "nvram" ? `${input.newVm!.name.replace(/\//g, "_")}_VARS.fd` : path.basename(configured);
        const name = taken.has(wanted) ? `${kind}.${wanted}` : wanted;
        taken.add(name);
        return path.resolve(input.newVm!.output, name);
    };
    for (const kind of BOOT_KINDS) {
        const configured = input.config.boot[kind];
        if (!configured)
            continue;
        const saved = chooseBootFile(configured, input.idents, input.names)?.name ?? null;
        const here = input.exists(configured);
        let step: BootStep;
        if (!input.newVm) {
            step = here ? { kind, configured, saved, target: null, action: "exists" }
                : saved ? { kind, configured, saved, target: configured, action: "copy" }
                    : { kind, configured, saved, target: null, action: "missing" };
            if (step.action === "missing")
                warnings.push(`${kind} ${configured}: not on this host and no saved copy at or before the restore point: the VM cannot boot without it`);
        } else if (kind === "loader" && here) {
            step = { kind, configured, saved, target: null, action: "exists" };
        } else if (saved) {
            step = { kind, configured, saved, target: outputName(kind, configured), action: "copy" };
            configBoot[kind] = step.target!;
        } else {
            step = { kind, configured, saved, target: null, action: "missing" };
            warnings.push(kind === "nvram"
                ? `nvram ${configured}: no saved copy at or before the restore point: the new VM gets a fresh one from the firmware's template`
                : here
                    ? `${kind} ${configured}: no saved copy at or before the restore point: the new VM uses the file on this host`
                    : `${kind} ${configured}: not on this host and no saved copy at or before the restore point: the new VM cannot boot without it`);
        }
        steps.push(step);
    }
    return { steps, configBoot, warnings };
}
