// SPDX-License-Identifier: GPL-3.0-or-later
// Pure checks of the restore dialog. The target and name rules are the helper's own
// (helper/protocol/restore-rules), so the dialog refuses what the helper would; what only the helper can see
// (a non-empty folder, a symlink elsewhere, an existing VM the page does not list) comes back from
// `check-restore` as refusal codes and is shown at the same fields.
import { checkRestoreTarget, checkVmName, defaultRestoreName, type NameProblem, type TargetProblem } from "../../helper/protocol/restore-rules";
import type { RestoreCheckAnswer } from "../backup-types";

export interface RestoreForm {
    point: string;
    target: string;
    define: boolean;
    name: string;
}

export interface RestoreFormContext {
    /** The VM's backup folder (normalised, as the settings give it). */
    backupFolder: string;
    /** Names of the VMs the page knows. */
    vmNames: readonly string[];
    /** Names of the complete restore points. */
    points: readonly string[];
}

export type TargetError = { code: TargetProblem | "not-empty" | "not-a-folder" | "resolves-elsewhere"; forbidden?: string; message?: string };
export type NameError = { code: NameProblem | "exists"; message?: string };

export interface RestoreFormErrors {
    point?: "unknown-point";
    target?: TargetError;
    name?: NameError;
}

/** The dialog's first values: the row's point, a folder of its own beside the VMs' images, define on. */
export function initialRestoreForm(vmName: string, point: string): RestoreForm {
    const name = defaultRestoreName(vmName);
    return { point, target: `/var/lib/libvirt/images/${name}`, define: true, name };
}

export function validateRestoreForm(form: RestoreForm, ctx: RestoreFormContext): RestoreFormErrors {
    const errors: RestoreFormErrors = {};
    if (!ctx.points.includes(form.point))
        errors.point = "unknown-point";
    const target = checkRestoreTarget(form.target, ctx.backupFolder);
    if ("problem" in target)
        errors.target = { code: target.problem, ...(target.forbidden ? { forbidden: target.forbidden } : {}) };
    if (form.define) {
        const problem = checkVmName(form.name);
        if (problem)
            errors.name = { code: problem };
        else if (ctx.vmNames.includes(form.name))
            errors.name = { code: "exists" };
    }
    return errors;
}

const TARGET_CODES = ["empty", "relative", "control-characters", "dot-segments", "too-long", "root", "system-folder",
    "inside-backup-folder", "holds-backup-folder", "not-empty", "not-a-folder", "resolves-elsewhere"];
const NAME_CODES = ["empty", "too-long", "bad-characters", "leading-dash", "exists"];

/** The helper's refusals as form errors; a code this page does not know keeps the helper's sentence. */
export function errorsFromCheck(answer: RestoreCheckAnswer): RestoreFormErrors {
    const errors: RestoreFormErrors = {};
    if (answer.point)
        errors.point = "unknown-point";
    if (answer.target) {
        const known = TARGET_CODES.includes(answer.target.code);
        errors.target = { code: (known ? answer.target.code : "resolves-elsewhere") as TargetError["code"], message: answer.target.message };
    }
    if (answer.name) {
        const known = NAME_CODES.includes(answer.name.code);
        errors.name = { code: (known ? answer.name.code : "bad-characters") as NameError["code"], message: answer.name.message };
    }
    return errors;
}
