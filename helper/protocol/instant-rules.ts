// SPDX-License-Identifier: GPL-3.0-or-later
// Start from backup's string rules and answers, shared with the page: which names a VM started from a backup
// may take (its name is also its record's file name, helper/instant/instant-record.ts), the name the page
// proposes, and which folders its overlays and moved disks may go to. Pure, without Node imports; the helper
// checks again (and resolves symlinks, looks at the VMs that exist).
import { checkRestoreTarget, type TargetCheck } from "./restore-rules.ts";

/** Letters, digits and . _ -, starting with a letter or digit, at most 64: usable as a file name and as an argument. */
export const INSTANT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_NAME = 64;

export type InstantNameProblem = "empty" | "too-long" | "bad-characters";

/** Why a name cannot be a started-from-backup VM's, or null. */
export function checkInstantName(name: string): InstantNameProblem | null {
    if (name === "")
        return "empty";
    if (name.length > MAX_NAME)
        return "too-long";
    if (!INSTANT_NAME_RE.test(name) || name.includes(".."))
        return "bad-characters";
    return null;
}

/**
 * The name the page proposes: restore_<vm> (virtnbdrestore's name of a VM beside the original) with the
 * characters the rule refuses replaced, and _2, _3... appended while a VM of that name exists.
 */
export function defaultInstantName(vmName: string, taken: readonly string[]): string {
    const base = `restore_${vmName}`.replace(/[^A-Za-z0-9._-]/g, "_").replace(/\.{2,}/g, ".").slice(0, MAX_NAME - 4);
    let name = base;
    for (let n = 2; taken.includes(name); n++)
        name = `${base}_${n}`;
    return name;
}

/**
 * A folder for overlays or moved disks: checkFolder's rules, and never the VM's backup folder or inside it
 * (its files would count as backup files) nor a folder holding it. Unlike a restore target it need not be empty:
 * the files it gets are named after the new VM and created new.
 */
export function checkInstantFolder(input: string, backupFolder: string): TargetCheck {
    return checkRestoreTarget(input, backupFolder);
}

/** The folder the page proposes for overlays and moved disks: libvirt's image folder. */
export const DEFAULT_INSTANT_FOLDER = "/var/lib/libvirt/images";

/** A started-from-backup VM as `list-instant-vms` lists it. */
export interface InstantVmSummary {
    name: string;
    /** The VM whose backup it runs from, and the restore point. */
    domain: string;
    point: string;
    /** Its start: "running" once the VM was started; its holder may have died since (alive false). */
    state: "starting" | "running" | "failed";
    /** libvirt's state of the VM (virsh domstate), null when libvirt does not know it. */
    vmState: string | null;
    alive: boolean;
    startedAt: number;
    disks: { dev: string; overlay: string; size: number }[];
}

export interface InstantListAnswer {
    vms: InstantVmSummary[];
}

/** `start-from-backup`'s answer once the VM runs. */
export type InstantStartedAnswer = Omit<InstantVmSummary, "vmState" | "alive"> & { event: "started" };

/** A progress line of `move-instant-vm`: disk `index` of `count`, `done` of `total` bytes copied. */
export interface InstantMoveProgress {
    event: "progress";
    dev: string;
    index: number;
    count: number;
    done: number;
    total: number;
}

/** `move-instant-vm`'s last line: the copies the VM now runs on. */
export interface InstantMovedAnswer {
    event: "moved";
    name: string;
    disks: string[];
}
