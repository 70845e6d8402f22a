// SPDX-License-Identifier: GPL-3.0-or-later
// Confirmation before cancelling a running backup or restore.
import { Modal, ModalBody, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import cockpit from "../lib/cockpit";
import { cancelJob } from "../helper-client";
import { DialogFailure, DialogFooter } from "./dialog-parts";
import { useDialogAction } from "./use-dialog-action";

const _ = cockpit.gettext;

export interface BackupCancelDialogProps {
    domain: string;
    kind: "backup" | "restore";
    onClose: () => void;
    onCancelled: () => void;
}

export function BackupCancelDialog({ domain, kind, onClose, onCancelled }: BackupCancelDialogProps) {
    const cancel = useDialogAction(() => cancelJob(domain), onCancelled);
    return (
        <Modal id="backup-cancel-dialog" isOpen onClose={cancel.busy ? undefined : onClose} variant="small" aria-labelledby="backup-cancel-title">
            <ModalHeader title={kind === "restore" ? _("Cancel the restore?") : _("Cancel the backup?")} labelId="backup-cancel-title"
                         titleIconVariant="warning" />
            <ModalBody>
                <DialogFailure title={kind === "restore" ? _("The restore was not cancelled") : _("The backup was not cancelled")} failure={cancel.failure} />
                {kind === "restore"
                    ? _("The files this restore has written so far are removed. The backup stays as it is.")
                    : _("The files this backup has written so far are removed and its checkpoint is deleted. Earlier restore points stay as they are.")}
            </ModalBody>
            <DialogFooter action={cancel} onClose={onClose} closeLabel={_("Keep running")}
                          submit={{ id: "backup-cancel-confirm", variant: "danger", label: kind === "restore" ? _("Cancel restore") : _("Cancel backup"), onClick: cancel.run }} />
        </Modal>
    );
}
