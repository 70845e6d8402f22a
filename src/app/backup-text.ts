// Translated names and formats shared by the Backups tab's components.
import cockpit from "../lib/cockpit";
import type { FolderProblem } from "../../helper/jobs/folder-rules";
import type { JobPhase, RequestedLevel } from "../backup-types";

const _ = cockpit.gettext;

export function levelName(level: RequestedLevel): string {
    switch (level) {
    case "auto": return _("Automatic");
    case "full": return _("Full");
    case "inc": return _("Incremental");
    case "diff": return _("Differential");
    case "copy": return _("Copy");
    }
}

export function levelDescription(level: RequestedLevel): string {
    switch (level) {
    case "auto": return _("Full into an empty folder, incremental otherwise.");
    case "full": return _("All data of every disk; starts a new chain of restore points.");
    case "inc": return _("Changes since the last backup; adds a restore point to the chain.");
    case "diff": return _("Changes since the last full or incremental backup, without a new checkpoint.");
    case "copy": return _("All data, outside the chain: no checkpoint is kept.");
    }
}

export function phaseName(phase: JobPhase): string {
    switch (phase) {
    case "running": return _("Running");
    case "succeeded": return _("Succeeded");
    case "failed": return _("Failed");
    case "cancelled": return _("Cancelled");
    }
}

export function folderProblemText(problem: FolderProblem, forbidden?: string): string {
    switch (problem) {
    case "empty": return _("Enter a folder.");
    case "relative": return _("Enter an absolute path, starting with /.");
    case "control-characters": return _("The path may not contain line breaks or other control characters.");
    case "dot-segments": return _("The path may not contain . or .. parts.");
    case "too-long": return _("The path is too long.");
    case "root": return _("Backups cannot be stored in /.");
    case "system-folder": return cockpit.format(_("Backups cannot be stored in $0 or inside it."), forbidden ?? "");
    }
}

export function bytes(n: number): string {
    return cockpit.format_bytes(n, 1024);
}

/** A meta frame's date (ISO local time without zone) in the page's language; as it is when unparsable. */
export function formatDate(iso: string): string {
    const t = Date.parse(iso.replace(/(\.\d{3})\d+$/, "$1"));
    if (Number.isNaN(t))
        return iso;
    return new Date(t).toLocaleString(cockpit.language.replace("_", "-"), { dateStyle: "medium", timeStyle: "medium" });
}

export function formatTime(ms: number): string {
    return new Date(ms).toLocaleString(cockpit.language.replace("_", "-"), { dateStyle: "medium", timeStyle: "medium" });
}
