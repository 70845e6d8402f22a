// Dialog to change a VM's backup folder and compression, with inline errors from the same checks the
// helper applies; the helper's own refusal (e.g. a symlink into /etc) is shown in the dialog too.
import { useState } from "react";
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { Checkbox } from "@patternfly/react-core/dist/esm/components/Checkbox/index.js";
import { Form, FormGroup, FormHelperText } from "@patternfly/react-core/dist/esm/components/Form/index.js";
import { HelperText, HelperTextItem } from "@patternfly/react-core/dist/esm/components/HelperText/index.js";
import { Modal, ModalBody, ModalFooter, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { TextInput } from "@patternfly/react-core/dist/esm/components/TextInput/index.js";
import cockpit from "../lib/cockpit";
import { HelperError, setSettings } from "../helper-client";
import type { SettingsAnswer } from "../backup-types";
import { hasErrors, validateSettingsForm, type SettingsForm } from "./backup-forms";
import { folderProblemText } from "./backup-text";

const _ = cockpit.gettext;

export interface BackupSettingsDialogProps {
    domain: string;
    settings: SettingsAnswer;
    onClose: () => void;
    onSaved: (settings: SettingsAnswer) => void;
}

export function BackupSettingsDialog({ domain, settings, onClose, onSaved }: BackupSettingsDialogProps) {
    const [form, setForm] = useState<SettingsForm>({ folder: settings.folder, compress: settings.compress });
    const [submitted, setSubmitted] = useState(false);
    const [saving, setSaving] = useState(false);
    const [failure, setFailure] = useState<string | null>(null);
    const errors = validateSettingsForm(form);
    const shown = submitted ? errors : {};

    const save = () => {
        setSubmitted(true);
        if (hasErrors(errors))
            return;
        setSaving(true);
        setFailure(null);
        setSettings(domain, form).then(onSaved, (error: unknown) => {
            setSaving(false);
            setFailure(error instanceof HelperError ? error.detail.replace(/^helper: /, "") : String(error));
        });
    };

    return (
        <Modal id="backup-settings-dialog" isOpen onClose={onClose} variant="small" aria-labelledby="backup-settings-title">
            <ModalHeader title={_("Backup settings")} labelId="backup-settings-title" />
            <ModalBody>
                {failure && <Alert id="backup-settings-failure" variant="danger" isInline title={_("The settings were not saved")}>{failure}</Alert>}
                <Form id="backup-settings-form" onSubmit={event => { event.preventDefault(); save() }}>
                    <FormGroup label={_("Backup folder")} fieldId="backup-settings-folder" isRequired>
                        <TextInput id="backup-settings-folder" value={form.folder} isRequired
                                   validated={shown.folder ? "error" : "default"}
                                   onChange={(_event, folder) => setForm({ ...form, folder })} />
                        <FormHelperText>
                            <HelperText>
                                {shown.folder
                                    ? <HelperTextItem id="backup-settings-folder-error" variant="error">
                                        {folderProblemText(shown.folder.problem, shown.folder.forbidden)}
                                    </HelperTextItem>
                                    : <HelperTextItem>{_("Each virtual machine needs a folder of its own. It is created when needed.")}</HelperTextItem>}
                            </HelperText>
                        </FormHelperText>
                    </FormGroup>
                    <FormGroup fieldId="backup-settings-compress">
                        <Checkbox id="backup-settings-compress" label={_("Compress backups (lz4)")} isChecked={form.compress}
                                  description={_("Smaller files for data that compresses well; a little more CPU time.")}
                                  onChange={(_event, compress) => setForm({ ...form, compress })} />
                    </FormGroup>
                </Form>
            </ModalBody>
            <ModalFooter>
                <Button id="backup-settings-save" variant="primary" onClick={save} isLoading={saving} isDisabled={saving}>{_("Save")}</Button>
                <Button variant="link" onClick={onClose}>{_("Cancel")}</Button>
            </ModalFooter>
        </Modal>
    );
}
