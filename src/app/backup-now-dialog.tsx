// SPDX-License-Identifier: GPL-3.0-or-later
// Dialog that starts a backup: the level to make (automatic by default), then "Back up".
import { useState } from "react";
import { Form, FormGroup } from "@patternfly/react-core/dist/esm/components/Form/index.js";
import { Modal, ModalBody, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { Radio } from "@patternfly/react-core/dist/esm/components/Radio/index.js";
import cockpit from "../lib/cockpit";
import { startBackup } from "../helper-client";
import type { JobLevel } from "../backup-types";
import { BACKUP_LEVELS, hasErrors, validateBackupNowForm } from "./backup-forms";
import { levelDescription, levelName } from "./backup-text";
import { DialogFailure, DialogFooter } from "./dialog-parts";
import { useDialogAction } from "./use-dialog-action";

const _ = cockpit.gettext;

export interface BackupNowDialogProps {
    domain: string;
    folder: string;
    onClose: () => void;
    onStarted: () => void;
}

export function BackupNowDialog({ domain, folder, onClose, onStarted }: BackupNowDialogProps) {
    const [level, setLevel] = useState<JobLevel>("auto");
    const starting = useDialogAction(() => startBackup(domain, level), onStarted);

    const start = () => {
        if (!hasErrors(validateBackupNowForm({ level })))
            starting.run();
        else
            starting.refused();
    };

    return (
        <Modal id="backup-now-dialog" isOpen onClose={starting.busy ? undefined : onClose} variant="small" aria-labelledby="backup-now-title">
            <ModalHeader title={cockpit.format(_("Back up $0"), domain)} labelId="backup-now-title"
                         description={cockpit.format(_("Into $0"), folder)} />
            <ModalBody>
                <DialogFailure id="backup-now-failure" title={_("The backup did not start")} failure={starting.failure} />
                <Form id="backup-now-form" onSubmit={event => { event.preventDefault(); start() }}>
                    <FormGroup role="radiogroup" label={_("Backup type")} fieldId="backup-level" isStack>
                        {BACKUP_LEVELS.map(l => (
                            <Radio key={l} id={`backup-level-${l}`} name="backup-level" value={l} isChecked={level === l}
                                   label={levelName(l)} description={levelDescription(l)} onChange={() => setLevel(l)} />
                        ))}
                    </FormGroup>
                </Form>
            </ModalBody>
            <DialogFooter action={starting} onClose={onClose} submit={{ id: "backup-now-start", label: _("Back up"), onClick: start }} />
        </Modal>
    );
}
