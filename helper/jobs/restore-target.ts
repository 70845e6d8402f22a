// SPDX-License-Identifier: GPL-3.0-or-later
// The helper's checks of a restore request, with the file system and libvirt: the target folder's real
// path (symlinks resolved, then the string rules again), that it is empty or does not exist, and that
// the new VM's name is free. Each refusal names its field, so the dialog can show it at that field.
import fs from "node:fs";
import path from "node:path";
import { resolveTrustedFolder, UntrustedFolderError } from "../fs/trusted-folder.ts";
import { getDomain } from "../libvirt/domains.ts";
import { LibvirtError } from "../libvirt/virsh.ts";
import {
    checkRestoreTarget, checkVmName, describeNameProblem, describeTargetProblem, type NameProblem, type TargetProblem,
} from "../protocol/restore-rules.ts";
import type { RestoreCheckAnswer } from "../protocol/job-types.ts";

/** Why the helper refuses a field: a rule of restore-rules.ts, or what only the helper can see. */
export type RefusalCode = TargetProblem | NameProblem | "not-empty" | "not-a-folder" | "resolves-elsewhere" | "untrusted" | "exists" | "unknown-point";

export class RestoreRequestError extends Error {
    override readonly name = "RestoreRequestError";
    constructor(readonly field: "target" | "name" | "point", readonly code: RefusalCode, message: string) {
        super(message);
    }
}

/** The target folder to restore into (real path); throws RestoreRequestError("target"). */
export function validateRestoreTarget(input: string, backupFolder: string): string {
    const typed = checkRestoreTarget(input, backupFolder);
    if ("problem" in typed)
        throw new RestoreRequestError("target", typed.problem, describeTargetProblem(typed.problem, typed.forbidden));
    // Resolved once and found trusted: no other user can change what it leads to until the run (which
    // checks it again itself).
    let real: string;
    try {
        real = resolveTrustedFolder(typed.target, "a restore folder").folder;
    } catch (err) {
        if (err instanceof UntrustedFolderError)
            throw new RestoreRequestError("target", err.kind, err.message);
        throw err;
    }
    const realBackup = realPathOf(backupFolder);
    const again = checkRestoreTarget(real, realBackup);
    if ("problem" in again)
        throw new RestoreRequestError("target", "resolves-elsewhere", `${typed.target} leads to ${real}: ${describeTargetProblem(again.problem, again.forbidden)}`);
    const stat = fs.statSync(real, { throwIfNoEntry: false });
    if (stat && fs.readdirSync(real).length > 0)
        throw new RestoreRequestError("target", "not-empty", `${typed.target} is not empty`);
    return again.target;
}

/** The real path of `folder`: its longest existing part resolved, the rest appended. */
function realPathOf(folder: string): string {
    let existing = folder;
    while (!fs.existsSync(existing))
        existing = path.dirname(existing);
    return path.join(fs.realpathSync(existing), path.relative(existing, folder));
}

/** Whether libvirt knows a VM of this name. */
async function vmExists(name: string, uri?: string): Promise<boolean> {
    try {
        await getDomain(name, uri);
        return true;
    } catch (err) {
        if (err instanceof LibvirtError && err.code === "no-domain")
            return false;
        throw err;
    }
}

/** Checks the new VM's name; throws RestoreRequestError("name"). */
export async function validateNewVmName(name: string, uri?: string): Promise<string> {
    const problem = checkVmName(name);
    if (problem)
        throw new RestoreRequestError("name", problem, describeNameProblem(problem));
    if (await vmExists(name, uri))
        throw new RestoreRequestError("name", "exists", `a virtual machine named ${name} already exists`);
    return name;
}

/** Every refusal of a request at once, for the dialog (check-restore). */
export async function checkRestoreRequest(req: { target: string; backupFolder: string; name?: string; pointOk: boolean }): Promise<RestoreCheckAnswer> {
    const answer: RestoreCheckAnswer = {};
    try {
        answer.resolvedTarget = validateRestoreTarget(req.target, req.backupFolder);
    } catch (err) {
        if (!(err instanceof RestoreRequestError))
            throw err;
        answer.target = { code: err.code, message: err.message };
    }
    if (req.name !== undefined) {
        try {
            await validateNewVmName(req.name);
        } catch (err) {
            if (!(err instanceof RestoreRequestError))
                throw err;
            answer.name = { code: err.code, message: err.message };
        }
    }
    if (!req.pointOk)
        answer.point = { code: "unknown-point", message: "not a complete restore point of this virtual machine" };
    return answer;
}
