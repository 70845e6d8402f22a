// SPDX-License-Identifier: GPL-3.0-or-later
// Pure checks of the start-from-backup, move-to-storage and restore-to-host dialogs. The name and folder
// rules are the helper's own (helper/protocol/instant-rules.ts), so the dialogs refuse what the helper would;
// what only the helper can see (a VM the page does not list, a folder that resolves elsewhere) comes back as
// its one-line refusal.
import { checkInstantFolder, checkInstantName, defaultInstantName, DEFAULT_INSTANT_FOLDER, type InstantNameProblem } from "../../helper/protocol/instant-rules";
import { checkFolder } from "../../helper/protocol/folder-rules";
import type { TargetCheck } from "../../helper/protocol/restore-rules";
import type { TargetError } from "./restore-form";

export interface InstantForm {
    name: string;
    /** Where the overlays go. */
    folder: string;
}

export interface InstantFormContext {
    /** The VM's backup folder (normalised, as the settings give it). */
    backupFolder: string;
    /** Names of the VMs the page knows. */
    vmNames: readonly string[];
}

export type InstantNameError = { code: InstantNameProblem | "exists" };

export interface InstantFormErrors {
    name?: InstantNameError;
    folder?: TargetError;
}

/** The dialog's first values: a free restore_<vm> name, overlays in libvirt's image folder. */
export function initialInstantForm(vmName: string, vmNames: readonly string[]): InstantForm {
    return { name: defaultInstantName(vmName, vmNames), folder: DEFAULT_INSTANT_FOLDER };
}

/** A rule's refusal as the field error the restore texts name, or undefined. */
function fieldError(checked: TargetCheck | ReturnType<typeof checkFolder>): TargetError | undefined {
    return "problem" in checked ? { code: checked.problem, ...(checked.forbidden ? { forbidden: checked.forbidden } : {}) } : undefined;
}

/** A folder for overlays or moved disks: never the backup folder, inside it or holding it. */
export function validateInstantFolder(folder: string, backupFolder: string): TargetError | undefined {
    return fieldError(checkInstantFolder(folder, backupFolder));
}

export function validateInstantForm(form: InstantForm, ctx: InstantFormContext): InstantFormErrors {
    const errors: InstantFormErrors = {};
    const problem = checkInstantName(form.name);
    if (problem)
        errors.name = { code: problem };
    else if (ctx.vmNames.includes(form.name))
        errors.name = { code: "exists" };
    const folder = validateInstantFolder(form.folder, ctx.backupFolder);
    if (folder)
        errors.folder = folder;
    return errors;
}

/** Restore to host: any folder the folder rules accept (it is made when missing; the copy is root's). */
export function validateHostFolder(folder: string): TargetError | undefined {
    return fieldError(checkFolder(folder));
}
