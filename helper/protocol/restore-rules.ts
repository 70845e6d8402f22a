// SPDX-License-Identifier: GPL-3.0-or-later
// Which restore targets and new VM names the helper accepts. Pure string rules without Node imports, so
// the restore dialog checks with the very same functions before the (root) helper checks again (and
// resolves symlinks, looks at the folder's content and at the VMs that exist).
import { checkFolder, describeFolderProblem, type FolderProblem } from "./folder-rules.ts";

export type TargetProblem = FolderProblem | "inside-backup-folder" | "holds-backup-folder";

export type TargetCheck = { target: string } | { problem: TargetProblem; forbidden?: string };

/** Whether `inner` is `outer` or lies inside it (both absolute, normalised). Pure. */
export function within(inner: string, outer: string): boolean {
    return inner === outer || inner.startsWith(outer === "/" ? "/" : outer + "/");
}

/** The target folder normalised, or why it is refused; `backupFolder` is the VM's (normalised) backup folder. */
export function checkRestoreTarget(input: string, backupFolder: string): TargetCheck {
    const checked = checkFolder(input);
    if ("problem" in checked)
        return checked;
    if (within(checked.folder, backupFolder))
        return { problem: "inside-backup-folder" };
    if (within(backupFolder, checked.folder))
        return { problem: "holds-backup-folder" };
    return { target: checked.folder };
}

/** One English sentence for a target problem (the helper's error; the UI translates its own). */
export function describeTargetProblem(problem: TargetProblem, forbidden?: string): string {
    switch (problem) {
    case "inside-backup-folder": return "the restore folder may not be the backup folder or inside it";
    case "holds-backup-folder": return "the restore folder may not contain the backup folder";
    default: return describeFolderProblem(problem, forbidden).replace("the backup folder", "the restore folder");
    }
}

export type NameProblem = "empty" | "too-long" | "bad-characters" | "leading-dash";

/** A new VM's name: what libvirt accepts and what is safe as a command-line value. */
export function checkVmName(name: string): NameProblem | null {
    if (name.trim() === "")
        return "empty";
    if (name.length > 200)
        return "too-long";
    if (/[\u0000-\u001f\u007f/]/.test(name) || name !== name.trim())
        return "bad-characters";
    if (name.startsWith("-"))
        return "leading-dash";
    return null;
}

export function describeNameProblem(problem: NameProblem): string {
    switch (problem) {
    case "empty": return "the new virtual machine needs a name";
    case "too-long": return "the name is too long";
    case "bad-characters": return "the name may not contain /, control characters, or leading or trailing spaces";
    case "leading-dash": return "the name may not start with -";
    }
}

/** virtnbdrestore's default name of a VM restored beside the original. */
export function defaultRestoreName(vmName: string): string {
    return `restore_${vmName}`;
}
