// Which backup folders the helper accepts. Pure string rules without Node imports, so the UI's form
// checks with the very same function before the (root) helper checks again.

/** System folders a backup may never be written to, nor inside. /lib* covers /lib, /lib64, /libx32... */
const FORBIDDEN = ["/etc", "/proc", "/sys", "/dev", "/boot", "/usr", "/bin", "/sbin", "/run"];
const MAX_LENGTH = 4000;

export type FolderProblem =
    | "empty"
    | "relative"
    | "control-characters"
    | "dot-segments"
    | "too-long"
    | "root"
    | "system-folder";

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

/** One English sentence for a problem (the helper's error; the UI translates its own). */
export function describeFolderProblem(problem: FolderProblem, forbidden?: string): string {
    switch (problem) {
    case "empty": return "the backup folder is empty";
    case "relative": return "the backup folder must be an absolute path (starting with /)";
    case "control-characters": return "the backup folder contains control characters (newline, NUL, ...)";
    case "dot-segments": return "the backup folder may not contain . or .. segments";
    case "too-long": return "the backup folder path is too long";
    case "root": return "the backup folder may not be /";
    case "system-folder": return `the backup folder may not be ${forbidden ?? "a system folder"} or inside it`;
    }
}

/** virtnbdbackup's usual place for a VM's backups. */
export function defaultFolder(vmName: string): string {
    return `/var/lib/libvirt/backups/${vmName}`;
}
