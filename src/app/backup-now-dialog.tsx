// SPDX-License-Identifier: GPL-3.0-or-later
// Dialog that starts a backup: the level to make (automatic by default), then "Back up".
import { useState } from "react";
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { Form, FormGroup } from "@patternfly/react-core/dist/esm/components/Form/index.js";
import { Modal, ModalBody, ModalFooter, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { Radio } from "@patternfly/react-core/dist/esm/components/Radio/index.js";
import cockpit from "../lib/cockpit";
import { errorDetail, startBackup } from "../helper-client";
import type { JobLevel } from "../backup-types";
import { BACKUP_LEVELS, hasErrors, validateBackupNowForm } from "./backup-forms";
import { levelDescription, levelName } from "./backup-text";

const _ = cockpit.gettext;

export interface BackupNowDialogProps {
    domain: string;
    folder: string;
    onClose: () => void;
    onStarted: () => void;
}

export function BackupNowDialog({ domain, folder, onClose, onStarted }: BackupNowDialogProps) {
    const [level, setLevel] = useState<JobLevel>("auto");
    const [starting, setStarting] = useState(false);
    const [failure, setFailure] = useState<string | null>(null);

    const start = () => {
        if (hasErrors(validateBackupNowForm({ level })))
            return;
        setStarting(true);
        setFailure(null);
        startBackup(domain, level).then(onStarted, (error: unknown) => {
            setStarting(false);
            setFailure(errorDetail(error));
        });
    };

    return (
        <Modal id="backup-now-dialog" isOpen onClose={onClose} variant="small" aria-labelledby="backup-now-title">
            <ModalHeader title={cockpit.format(_("Back up $0"), domain)} labelId="backup-now-title"
                         description={cockpit.format(_("Into $0"), folder)} />
            <ModalBody>
                {failure && <Alert component="h2" id="backup-now-failure" variant="danger" isInline title={_("The backup did not start")}>{failure}</Alert>}
                <Form id="backup-now-form" onSubmit={event => { event.preventDefault(); start() }}>
                    <FormGroup role="radiogroup" label={_("Backup type")} fieldId="backup-level" isStack>
                        {BACKUP_LEVELS.map(l => (
                            <Radio key={l} id={`backup-level-${l}`} name="backup-level" value={l} isChecked={level === l}
                                   label={levelName(l)} description={levelDescription(l)} onChange={() => setLevel(l)} />
                        ))}
                    </FormGroup>
                </Form>
            </ModalBody>
            <ModalFooter>
                <Button id="backup-now-start" variant="primary" onClick={start} isLoading={starting} isDisabled={starting}>{_("Back up")}</Button>
                <Button variant="link" onClick={onClose}>{_("Cancel")}</Button>
            </ModalFooter>
        </Modal>
    );
}
