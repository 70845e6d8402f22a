// SPDX-License-Identifier: GPL-3.0-or-later
// Dialog that restores a restore point: the point (preselected from the row), an empty or new target
// folder, and optionally a new VM defined from the restored disks. Inline errors come from the same
// rules the helper applies and, on submit, from the helper's own check (non-empty folder, existing VM);
// nothing starts while any is shown.
import { useState } from "react";
import { Checkbox } from "@patternfly/react-core/dist/esm/components/Checkbox/index.js";
import { Form, FormGroup, FormHelperText } from "@patternfly/react-core/dist/esm/components/Form/index.js";
import { FormSelect, FormSelectOption } from "@patternfly/react-core/dist/esm/components/FormSelect/index.js";
import { HelperText, HelperTextItem } from "@patternfly/react-core/dist/esm/components/HelperText/index.js";
import { Modal, ModalBody, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { TextInput } from "@patternfly/react-core/dist/esm/components/TextInput/index.js";
import cockpit from "../lib/cockpit";
import { pointKey } from "../point-key";
import { checkRestore, startRestore } from "../helper-client";
import type { RestorePoint } from "../backup-types";
import { hasErrors } from "./backup-forms";
import { formatDate, levelName } from "./backup-text";
import { DialogFailure, DialogFooter } from "./dialog-parts";
import { errorsFromCheck, initialRestoreForm, validateRestoreForm, type RestoreForm, type RestoreFormErrors } from "./restore-form";
import { nameErrorText, targetErrorText } from "./restore-text";
import { useDialogAction } from "./use-dialog-action";

const _ = cockpit.gettext;

export interface RestoreDialogProps {
    domain: string;
    /** The VM's backup folder. */
    backupFolder: string;
    /** Restore points of the folder, oldest first; only complete ones can be chosen. */
    points: RestorePoint[];
    /** The row the dialog was opened from. */
    point: string;
    /** Names of the VMs the page knows (a new VM may not take one). */
    vmNames: readonly string[];
    onClose: () => void;
    onStarted: () => void;
}

export function RestoreDialog({ domain, backupFolder, points, point, vmNames, onClose, onStarted }: RestoreDialogProps) {
    const [form, setForm] = useState<RestoreForm>(() => initialRestoreForm(domain, point));
    const [submitted, setSubmitted] = useState(false);
    const [helperErrors, setHelperErrors] = useState<RestoreFormErrors>({});
    const choices = points.filter(p => p.complete).reverse();
    const errors = validateRestoreForm(form, { backupFolder, vmNames, points: choices.map(pointKey) });
    const shown: RestoreFormErrors = submitted ? { ...helperErrors, ...errors } : {};
    const change = (next: Partial<RestoreForm>) => {
        setForm({ ...form, ...next });
        // What the helper said was about the old values.
        setHelperErrors({});
    };

    // The helper checks the target and the name first; what it refuses shows under the fields, and nothing starts.
    const starting = useDialogAction(async () => {
        const request = { point: form.point, target: form.target, newVmName: form.define ? form.name : null };
        const refused = errorsFromCheck(await checkRestore(domain, request));
        if (hasErrors(refused))
            return refused;
        await startRestore(domain, request);
        return null;
    }, refused => refused === null ? onStarted() : setHelperErrors(refused));
    const start = () => {
        setSubmitted(true);
        if (!hasErrors(errors))
            starting.run();
        else
            starting.refused();
    };

    return (
        <Modal id="restore-dialog" isOpen onClose={starting.busy ? undefined : onClose} variant="medium" aria-labelledby="restore-dialog-title">
            <ModalHeader title={cockpit.format(_("Restore $0"), domain)} labelId="restore-dialog-title"
                         description={cockpit.format(_("From $0"), backupFolder)} />
            <ModalBody>
                <DialogFailure id="restore-failure" title={_("The restore did not start")} failure={starting.failure} />
                <Form id="restore-form" onSubmit={event => { event.preventDefault(); start() }}>
                    <FormGroup label={_("Restore point")} fieldId="restore-point" isRequired>
                        <FormSelect id="restore-point" value={form.point} onChange={(_event, value) => change({ point: value })}
                                    validated={shown.point ? "error" : "default"} aria-label={_("Restore point")}>
                            {choices.map(p => (
                                <FormSelectOption key={pointKey(p)} value={pointKey(p)}
                                                  label={cockpit.format(_("$0 · $1 · $2"), pointKey(p), levelName(p.level), formatDate(p.date))} />
                            ))}
                        </FormSelect>
                        {shown.point && (
                            <FormHelperText>
                                <HelperText>
                                    <HelperTextItem id="restore-point-error" variant="error">{_("Choose a complete restore point.")}</HelperTextItem>
                                </HelperText>
                            </FormHelperText>
                        )}
                    </FormGroup>
                    <FormGroup label={_("Restore into folder")} fieldId="restore-target" isRequired>
                        <TextInput id="restore-target" value={form.target} isRequired validated={shown.target ? "error" : "default"}
                                   onChange={(_event, target) => change({ target })} />
                        <FormHelperText>
                            <HelperText>
                                {shown.target
                                    ? <HelperTextItem id="restore-target-error" variant="error">{targetErrorText(shown.target)}</HelperTextItem>
                                    : <HelperTextItem>{_("An absolute path to an empty or new folder, outside the backup folder.")}</HelperTextItem>}
                            </HelperText>
                        </FormHelperText>
                    </FormGroup>
                    <FormGroup fieldId="restore-define">
                        <Checkbox id="restore-define" label={_("Define a new virtual machine")} isChecked={form.define}
                                  description={_("With the restored disks and its own copy of the boot files, beside the original.")}
                                  onChange={(_event, define) => change({ define })} />
                    </FormGroup>
                    <FormGroup label={_("Name of the new virtual machine")} fieldId="restore-name" isRequired={form.define}>
                        <TextInput id="restore-name" value={form.name} isDisabled={!form.define} validated={shown.name ? "error" : "default"}
                                   onChange={(_event, name) => change({ name })} />
                        {shown.name && (
                            <FormHelperText>
                                <HelperText>
                                    <HelperTextItem id="restore-name-error" variant="error">{nameErrorText(shown.name)}</HelperTextItem>
                                </HelperText>
                            </FormHelperText>
                        )}
                    </FormGroup>
                </Form>
            </ModalBody>
            <DialogFooter action={starting} onClose={onClose} submit={{ id: "restore-start", label: _("Restore"), onClick: start }} />
        </Modal>
    );
}
