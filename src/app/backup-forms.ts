// Pure checks of the Backups tab's forms. The folder rules are the helper's own (helper/jobs/folder-rules),
// so the dialog refuses exactly what the helper would; the helper checks again (and resolves symlinks).
import { checkFolder, type FolderProblem } from "../../helper/jobs/folder-rules";
import type { RequestedLevel } from "../backup-types";

export interface SettingsForm {
    folder: string;
    compress: boolean;
}

export interface SettingsFormErrors {
    folder?: { problem: FolderProblem; forbidden?: string };
}

export function validateSettingsForm(form: SettingsForm): SettingsFormErrors {
    const checked = checkFolder(form.folder);
    return "problem" in checked ? { folder: { problem: checked.problem, forbidden: checked.forbidden } } : {};
}

export function hasErrors(errors: object): boolean {
    return Object.values(errors).some(v => v !== undefined);
}

export const BACKUP_LEVELS: RequestedLevel[] = ["auto", "full", "inc", "diff", "copy"];

export interface BackupNowForm {
    level: string;
}

export interface BackupNowErrors {
    level?: "unknown-level";
}

export function validateBackupNowForm(form: BackupNowForm): BackupNowErrors {
    return (BACKUP_LEVELS as string[]).includes(form.level) ? {} : { level: "unknown-level" };
}
