// SPDX-License-Identifier: GPL-3.0-or-later
// Confirmation before cancelling a running backup or restore.
import { useState } from "react";
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { Modal, ModalBody, ModalFooter, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import cockpit from "../lib/cockpit";
import { errorDetail, cancelJob } from "../helper-client";

const _ = cockpit.gettext;

export interface BackupCancelDialogProps {
    domain: string;
    kind: "backup" | "restore";
    onClose: () => void;
    onCancelled: () => void;
}

export function BackupCancelDialog({ domain, kind, onClose, onCancelled }: BackupCancelDialogProps) {
    const [busy, setBusy] = useState(false);
    const [failure, setFailure] = useState<string | null>(null);
    const confirm = () => {
        setBusy(true);
        cancelJob(domain).then(onCancelled, (error: unknown) => {
            setBusy(false);
            setFailure(errorDetail(error));
        });
    };
    return (
        <Modal id="backup-cancel-dialog" isOpen onClose={onClose} variant="small" aria-labelledby="backup-cancel-title">
            <ModalHeader title={kind === "restore" ? _("Cancel the restore?") : _("Cancel the backup?")} labelId="backup-cancel-title"
                         titleIconVariant="warning" />
            <ModalBody>
                {failure && (
                    <Alert component="h2" variant="danger" isInline title={kind === "restore" ? _("The restore was not cancelled") : _("The backup was not cancelled")}>
                        {failure}
                    </Alert>
                )}
                {kind === "restore"
                    ? _("The files this restore has written so far are removed. The backup stays as it is.")
                    : _("The files this backup has written so far are removed and its checkpoint is deleted. Earlier restore points stay as they are.")}
            </ModalBody>
            <ModalFooter>
                <Button id="backup-cancel-confirm" variant="danger" onClick={confirm} isLoading={busy} isDisabled={busy}>
                    {kind === "restore" ? _("Cancel restore") : _("Cancel backup")}
                </Button>
                <Button variant="link" onClick={onClose}>{_("Keep running")}</Button>
            </ModalFooter>
        </Modal>
    );
}
