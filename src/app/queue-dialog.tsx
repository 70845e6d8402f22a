// SPDX-License-Identifier: GPL-3.0-or-later
// "Backup jobs at once": the host-wide job queue's size, edited for every VM of the host at once.
import { useState } from "react";
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { Form, FormGroup, FormHelperText } from "@patternfly/react-core/dist/esm/components/Form/index.js";
import { HelperText, HelperTextItem } from "@patternfly/react-core/dist/esm/components/HelperText/index.js";
import { Modal, ModalBody, ModalFooter, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { TextInput } from "@patternfly/react-core/dist/esm/components/TextInput/index.js";
import cockpit from "../lib/cockpit";
import { errorDetail, setHostSettings } from "../helper-client";
import type { HostSettingsAnswer } from "../backup-types";
import { MAX_BACKUP_JOBS_LIMIT } from "../../helper/protocol/queue-rules";
import { validateQueueForm, type MaxBackupJobsProblem } from "./queue-form";

const _ = cockpit.gettext;

function problemText(problem: MaxBackupJobsProblem): string {
    switch (problem) {
    case "not-a-number": return _("Enter a whole number.");
    case "out-of-range": return cockpit.format(_("Enter a number from 1 to $0."), MAX_BACKUP_JOBS_LIMIT);
    }
}

export interface QueueDialogProps {
    settings: HostSettingsAnswer;
    onClose: () => void;
    onSaved: (settings: HostSettingsAnswer) => void;
}

export function QueueDialog({ settings, onClose, onSaved }: QueueDialogProps) {
    const [text, setText] = useState(String(settings.maxBackupJobs));
    const [submitted, setSubmitted] = useState(false);
    const [saving, setSaving] = useState(false);
    const [failure, setFailure] = useState<string | null>(null);
    const checked = validateQueueForm(text);
    const problem = submitted && "problem" in checked ? checked.problem : null;
    const save = () => {
        setSubmitted(true);
        if ("problem" in checked)
            return;
        setSaving(true);
        setFailure(null);
        setHostSettings(checked.max).then(onSaved, (error: unknown) => {
            setSaving(false);
            setFailure(errorDetail(error));
        });
    };
    return (
        <Modal id="queue-dialog" isOpen onClose={onClose} variant="small" aria-labelledby="queue-dialog-title">
            <ModalHeader title={_("Backup jobs at once")} labelId="queue-dialog-title" />
            <ModalBody>
                {failure && <Alert component="h2" id="queue-dialog-failure" variant="danger" isInline title={_("The setting was not saved")}>{failure}</Alert>}
                <Form id="queue-dialog-form" onSubmit={event => { event.preventDefault(); save() }}>
                    <FormGroup label={_("At most this many backups run at the same time on this host")} fieldId="queue-dialog-max">
                        <TextInput id="queue-dialog-max" value={text} inputMode="numeric" validated={problem ? "error" : "default"}
                                   onChange={(_event, value) => setText(value)} />
                        <FormHelperText>
                            <HelperText>
                                {problem
                                    ? <HelperTextItem id="queue-dialog-max-error" variant="error">{problemText(problem)}</HelperTextItem>
                                    : <HelperTextItem>{_("More backups wait their turn, in the order they were started. Restores, verifies and removals do not wait.")}</HelperTextItem>}
                            </HelperText>
                        </FormHelperText>
                    </FormGroup>
                </Form>
            </ModalBody>
            <ModalFooter>
                <Button id="queue-dialog-save" variant="primary" onClick={save} isLoading={saving} isDisabled={saving}>{_("Save")}</Button>
                <Button variant="link" onClick={onClose}>{_("Cancel")}</Button>
            </ModalFooter>
        </Modal>
    );
}
