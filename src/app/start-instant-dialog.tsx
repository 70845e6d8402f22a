// SPDX-License-Identifier: GPL-3.0-or-later
// "Start from backup…" of a restore point: the new VM's name (a free restore_<vm> proposed) and the folder
// for its overlays, checked with the helper's own rules; then the helper maps the point and starts the VM on
// qcow2 overlays over it, which takes seconds. The dialog waits for it and says why when it did not start.
import { useState } from "react";
import { Form, FormGroup } from "@patternfly/react-core/dist/esm/components/Form/index.js";
import { Modal, ModalBody, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { TextInput } from "@patternfly/react-core/dist/esm/components/TextInput/index.js";
import cockpit from "../lib/cockpit";
import { startFromBackup } from "../helper-client";
import type { InstantStartedAnswer } from "../instant-answer";
import type { RestorePoint } from "../backup-types";
import { pointKey } from "../point-key";
import { hasErrors } from "./backup-forms";
import { formatDate, levelName } from "./backup-text";
import { DialogFailure, DialogFooter } from "./dialog-parts";
import { FieldNote } from "./field-note";
import { FolderInput } from "./folder-input";
import { initialInstantForm, validateInstantForm, type InstantForm } from "./instant-form";
import { instantNameErrorText, targetErrorText } from "./restore-text";
import { useDialogAction } from "./use-dialog-action";

const _ = cockpit.gettext;

export interface StartInstantDialogProps {
    domain: string;
    /** The VM's backup folder. */
    backupFolder: string;
    point: RestorePoint;
    /** Names of the VMs the page knows (the new VM may not take one). */
    vmNames: readonly string[];
    onClose: () => void;
    onStarted: (started: InstantStartedAnswer) => void;
}

export function StartInstantDialog({ domain, backupFolder, point, vmNames, onClose, onStarted }: StartInstantDialogProps) {
    const [form, setForm] = useState<InstantForm>(() => initialInstantForm(domain, vmNames));
    const [submitted, setSubmitted] = useState(false);
    const errors = validateInstantForm(form, { backupFolder, vmNames });
    const shown = submitted ? errors : {};
    const starting = useDialogAction(() => startFromBackup(domain, { point: pointKey(point), name: form.name, folder: form.folder }), onStarted);
    const busy = starting.busy;

    const start = () => {
        setSubmitted(true);
        if (!hasErrors(errors))
            starting.run();
        else
            starting.refused();
    };

    return (
        <Modal id="instant-dialog" isOpen onClose={busy ? undefined : onClose} variant="medium" aria-labelledby="instant-dialog-title">
            <ModalHeader title={cockpit.format(_("Start $0 from a backup"), domain)} labelId="instant-dialog-title"
                         description={cockpit.format(_("Restore point $0 · $1 · $2"), pointKey(point), levelName(point.level), formatDate(point.date))} />
            <ModalBody>
                <DialogFailure id="instant-failure" title={_("The virtual machine did not start")} failure={starting.failure} />
                <p className="instant-explanation">
                    {_("A new virtual machine runs at once on the restore point's disks, without restoring them first. What it writes goes to overlay files; the backup is not changed. It needs the backup until it is moved to storage or discarded.")}
                </p>
                <Form id="instant-form" onSubmit={event => { event.preventDefault(); start() }}>
                    <FormGroup label={_("Name of the new virtual machine")} fieldId="instant-name" isRequired>
                        <TextInput id="instant-name" value={form.name} isRequired isDisabled={busy} validated={shown.name ? "error" : "default"}
                                   onChange={(_event, name) => setForm({ ...form, name })} />
                        <FieldNote field="instant-name" error={shown.name && instantNameErrorText(shown.name)} />
                    </FormGroup>
                    <FormGroup label={_("Folder for the overlays")} fieldId="instant-folder" isRequired>
                        <FolderInput id="instant-folder" value={form.folder} isRequired isDisabled={busy} validated={shown.folder ? "error" : "default"}
                                     onChange={folder => setForm({ ...form, folder })} />
                        <FieldNote field="instant-folder" error={shown.folder && targetErrorText(shown.folder)}
                                   help={_("An absolute path outside the backup folder; it is created when missing.")} />
                    </FormGroup>
                </Form>
            </ModalBody>
            <DialogFooter action={starting} onClose={onClose} submit={{ id: "instant-start", label: _("Start"), busyLabel: _("Starting…"), onClick: start }} />
        </Modal>
    );
}
