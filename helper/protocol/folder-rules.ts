// SPDX-License-Identifier: GPL-3.0-or-later
// Which backup folders the helper accepts. Pure string rules without Node imports, so the UI's form
// checks with the very same function before the (root) helper checks again.

/** System folders a backup may never be written to, nor inside. /lib* covers /lib, /lib64, /libx32... */
const FORBIDDEN = ["/etc", "/proc", "/sys", "/dev", "/boot", "/usr", "/bin", "/sbin", "/run"];
const MAX_LENGTH = 4000;
/** Longest name of one folder on Linux file systems (NAME_MAX), in bytes. */
const NAME_MAX = 255;
/**
 * Folders the whole system or every VM shares: a VM's backups need a folder of their own inside them
 * (prune and delete work on what the folder holds, and the size shown would be everyone's).
 */
const SHARED = [
    "/var", "/var/lib", "/var/lib/libvirt", "/var/lib/libvirt/images", "/var/lib/libvirt/backups", "/var/backups",
    "/tmp", "/var/tmp", "/home", "/srv", "/opt", "/mnt", "/media", "/root",
];
/** Folders emptied at reboot on most hosts. */
const TEMPORARY = ["/tmp", "/var/tmp"];

export type FolderProblem =
    | "empty"
    | "relative"
    | "control-characters"
    | "dot-segments"
    | "too-long"
    | "name-too-long"
    | "root"
    | "system-folder"
    | "shared-folder";

/** What is allowed but probably not meant. */
export type FolderWarning = "temporary";

/**
 * The folder without trailing slashes and repeated slashes, or the reason it is refused. Applied to
 * what the user typed, and by the helper also to the folder's real path (symlinks resolved).
 */
export function checkFolder(input: string): { folder: string } | { problem: FolderProblem; forbidden?: string } {
    if (input.trim() === "")
        return { problem: "empty" };
    if (input.length > MAX_LENGTH)
        return { problem: "too-long" };
    // NUL, newlines and other control characters have no place in a path shown and logged everywhere.
    if (/[\u0000-\u001f\u007f]/.test(input))
        return { problem: "control-characters" };
    if (!input.startsWith("/"))
        return { problem: "relative" };
    const parts = input.split("/").filter(p => p !== "");
    if (parts.some(p => p === "." || p === ".."))
        return { problem: "dot-segments" };
    if (parts.some(p => new TextEncoder().encode(p).length > NAME_MAX))
        return { problem: "name-too-long" };
    const folder = "/" + parts.join("/");
    if (folder === "/")
        return { problem: "root" };
    const top = "/" + parts[0];
    if (/^\/lib/.test(top))
        return { problem: "system-folder", forbidden: top };
    const hit = FORBIDDEN.find(f => folder === f || folder.startsWith(f + "/"));
    if (hit)
        return { problem: "system-folder", forbidden: hit };
    return { folder };
}

/**
 * checkFolder for a folder being chosen now (the settings form and set-settings): also refuses the shared
 * folders. Stored settings are read with checkFolder alone, so a folder chosen before this rule still works.
 */
export function checkChosenFolder(input: string): ReturnType<typeof checkFolder> {
    const checked = checkFolder(input);
    if ("folder" in checked && SHARED.includes(checked.folder))
        return { problem: "shared-folder", forbidden: checked.folder };
    return checked;
}

/** Warnings for a folder checkFolder accepted. */
export function folderWarnings(folder: string): FolderWarning[] {
    return TEMPORARY.some(t => folder.startsWith(t + "/")) ? ["temporary"] : [];
}

/** One English sentence for a problem (the helper's error; the UI translates its own). */
export function describeFolderProblem(problem: FolderProblem, forbidden?: string): string {
    switch (problem) {
    case "empty": return "the backup folder is empty";
    case "relative": return "the backup folder must be an absolute path (starting with /)";
    case "control-characters": return "the backup folder contains control characters (newline, NUL, ...)";
    case "dot-segments": return "the backup folder may not contain . or .. segments";
    case "too-long": return "the backup folder path is too long";
    case "name-too-long": return `a name in the backup folder path is longer than ${NAME_MAX} bytes`;
    case "root": return "the backup folder may not be /";
    case "system-folder": return `the backup folder may not be ${forbidden ?? "a system folder"} or inside it`;
    case "shared-folder": return `${forbidden ?? "this folder"} is shared by the whole system; choose a folder of its own inside it`;
    }
}

/** virtnbdbackup's usual place for a VM's backups. */
export function defaultFolder(vmName: string): string {
    return `/var/lib/libvirt/backups/${vmName}`;
}
