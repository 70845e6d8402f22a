// Confirmation before cancelling a running backup.
import { useState } from "react";
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { Modal, ModalBody, ModalFooter, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import cockpit from "../lib/cockpit";
import { HelperError, cancelJob } from "../helper-client";

const _ = cockpit.gettext;

export interface BackupCancelDialogProps {
    domain: string;
    onClose: () => void;
    onCancelled: () => void;
}

export function BackupCancelDialog({ domain, onClose, onCancelled }: BackupCancelDialogProps) {
    const [busy, setBusy] = useState(false);
    const [failure, setFailure] = useState<string | null>(null);
    const confirm = () => {
        setBusy(true);
        cancelJob(domain).then(onCancelled, (error: unknown) => {
            setBusy(false);
            setFailure(error instanceof HelperError ? error.detail.replace(/^helper: /, "") : String(error));
        });
    };
    return (
        <Modal id="backup-cancel-dialog" isOpen onClose={onClose} variant="small" aria-labelledby="backup-cancel-title">
            <ModalHeader title={_("Cancel the backup?")} labelId="backup-cancel-title" titleIconVariant="warning" />
            <ModalBody>
                {failure && <Alert variant="danger" isInline title={_("The backup was not cancelled")}>{failure}</Alert>}
                {_("The files this backup has written so far are removed and its checkpoint is deleted. Earlier restore points stay as they are.")}
            </ModalBody>
            <ModalFooter>
                <Button id="backup-cancel-confirm" variant="danger" onClick={confirm} isLoading={busy} isDisabled={busy}>{_("Cancel backup")}</Button>
                <Button variant="link" onClick={onClose}>{_("Keep running")}</Button>
            </ModalFooter>
        </Modal>
    );
}
