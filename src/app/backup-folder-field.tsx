// SPDX-License-Identifier: GPL-3.0-or-later
// The settings dialog's backup folder field: suggestions of existing folders while typing (Cockpit's file
// listing), the form's own refusal, and under the field what the helper would say about the folder on
// disk (a refusal, or warnings: emptied at reboot, holds other things, will be created).
import { useEffect, useState } from "react";
import { FormGroup, FormHelperText } from "@patternfly/react-core/dist/esm/components/Form/index.js";
import { HelperText, HelperTextItem } from "@patternfly/react-core/dist/esm/components/HelperText/index.js";
import cockpit from "../lib/cockpit";
import { checkBackupFolder } from "../helper-client";
import type { CheckFolderAnswer } from "../backup-types";
import type { FolderProblem } from "../../helper/protocol/folder-rules";
import { folderProblemText } from "./backup-text";
import { FolderInput, PAUSE_MS } from "./folder-input";

const _ = cockpit.gettext;

export interface BackupFolderFieldProps {
    domain: string;
    value: string;
    onChange: (folder: string) => void;
    /** The form's refusal (pure rules), shown once the user tried to save. */
    error?: { problem: FolderProblem; forbidden?: string };
    /** The pure rules refuse the folder (shown or not yet): the helper is not asked about it. */
    isInvalid: boolean;
    /** The helper's refusal of the typed folder, or null; the dialog does not save while there is one. */
    onRefusal: (problem: string | null) => void;
}

function useFolderCheck(domain: string, folder: string, skip: boolean): CheckFolderAnswer | null {
    const [check, setCheck] = useState<CheckFolderAnswer | null>(null);
    useEffect(() => {
        if (skip)
            return;
        let current = true;
        const timer = setTimeout(() => {
            checkBackupFolder(domain, folder).then(answer => current && setCheck(answer), () => current && setCheck(null));
        }, PAUSE_MS);
        return () => { current = false; clearTimeout(timer) };
    }, [domain, folder, skip]);
    return check !== null && check.folder === folder && !skip ? check : null;
}

export function BackupFolderField({ domain, value, onChange, error, isInvalid, onRefusal }: BackupFolderFieldProps) {
    const typed = value.trim();
    const check = useFolderCheck(domain, typed, typed === "" || isInvalid);
    const refusal = check?.problem ?? null;
    useEffect(() => onRefusal(refusal), [refusal, onRefusal]);

    const notes: { id: string; variant: "error" | "warning" | "default"; text: string }[] = [];
    if (error)
        notes.push({ id: "backup-settings-folder-error", variant: "error", text: folderProblemText(error.problem, error.forbidden) });
    else if (refusal)
        notes.push({ id: "backup-settings-folder-error", variant: "error", text: refusal });
    if (check && !refusal) {
        if (check.warnings.includes("temporary"))
            notes.push({ id: "backup-settings-folder-temporary", variant: "warning", text: _("This folder is usually emptied when the host restarts.") });
        if (check.facts && check.facts.foreignEntries > 0)
            notes.push({
                id: "backup-settings-folder-foreign", variant: "warning",
                text: cockpit.format(cockpit.ngettext("This folder already holds $0 item that is not a backup. Backups are best kept in a folder of their own.",
                                                      "This folder already holds $0 items that are not backups. Backups are best kept in a folder of their own.",
                                                      check.facts.foreignEntries), check.facts.foreignEntries),
            });
        if (check.facts && !check.facts.exists)
            notes.push({ id: "backup-settings-folder-new", variant: "default", text: _("The folder will be created with the first backup.") });
    }
    if (notes.length === 0)
        notes.push({ id: "backup-settings-folder-help", variant: "default", text: _("Each virtual machine needs a folder of its own. It is created when needed.") });

    return (
        <FormGroup label={_("Backup folder")} fieldId="backup-settings-folder" isRequired>
            <FolderInput id="backup-settings-folder" value={value} isRequired onChange={onChange}
                         validated={error || refusal ? "error" : notes.some(n => n.variant === "warning") ? "warning" : "default"}
                         aria-describedby={notes.map(n => n.id).join(" ")} />
            <FormHelperText>
                <HelperText>
                    {notes.map(n => <HelperTextItem key={n.id} id={n.id} variant={n.variant}>{n.text}</HelperTextItem>)}
                </HelperText>
            </FormHelperText>
        </FormGroup>
    );
}
