// SPDX-License-Identifier: GPL-3.0-or-later
// "Backup jobs at once": the host-wide job queue's size, edited for every VM of the host at once.
import { useState } from "react";
import { Form, FormGroup, FormHelperText } from "@patternfly/react-core/dist/esm/components/Form/index.js";
import { HelperText, HelperTextItem } from "@patternfly/react-core/dist/esm/components/HelperText/index.js";
import { Modal, ModalBody, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { TextInput } from "@patternfly/react-core/dist/esm/components/TextInput/index.js";
import cockpit from "../lib/cockpit";
import { setHostSettings } from "../helper-client";
import type { HostSettingsAnswer } from "../backup-types";
import { MAX_BACKUP_JOBS_LIMIT } from "../../helper/protocol/queue-rules";
import { DialogFailure, DialogFooter } from "./dialog-parts";
import { validateQueueForm, type MaxBackupJobsProblem } from "./queue-form";
import { useDialogAction } from "./use-dialog-action";

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
    const checked = validateQueueForm(text);
    const problem = submitted && "problem" in checked ? checked.problem : null;
    const saving = useDialogAction(setHostSettings, onSaved);
    const save = () => {
        setSubmitted(true);
        if ("max" in checked)
            saving.run(checked.max);
        else
            saving.refused();
    };
    return (
        <Modal id="queue-dialog" isOpen onClose={saving.busy ? undefined : onClose} variant="small" aria-labelledby="queue-dialog-title">
            <ModalHeader title={_("Backup jobs at once")} labelId="queue-dialog-title" />
            <ModalBody>
                <DialogFailure id="queue-dialog-failure" title={_("The setting was not saved")} failure={saving.failure} />
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
            <DialogFooter action={saving} onClose={onClose} submit={{ id: "queue-dialog-save", label: _("Save"), onClick: save }} />
        </Modal>
    );
}
