// SPDX-License-Identifier: GPL-3.0-or-later
// "Delete…" of a restore point: asks the helper what merging it into the next point drops and frees (a dry
// run of helper consolidate), names it, and does it only when confirmed.
import { useEffect, useState } from "react";
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { List, ListItem } from "@patternfly/react-core/dist/esm/components/List/index.js";
import { Modal, ModalBody, ModalFooter, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { Spinner } from "@patternfly/react-core/dist/esm/components/Spinner/index.js";
import cockpit from "../lib/cockpit";
import { consolidatePoints, errorDetail } from "../helper-client";
import type { ConsolidateAnswer } from "../backup-types";
import { bytes } from "./backup-text";
import type { PointDeleteRequest } from "./point-delete";

const _ = cockpit.gettext;

export interface DeletePointDialogProps {
    domain: string;
    request: PointDeleteRequest;
    onClose: () => void;
    onDeleted: () => void;
}

export function DeletePointDialog({ domain, request, onClose, onDeleted }: DeletePointDialogProps) {
    const [plan, setPlan] = useState<ConsolidateAnswer | null>(null);
    const [busy, setBusy] = useState(false);
    const [failure, setFailure] = useState<string | null>(null);
    useEffect(() => {
        consolidatePoints(domain, request, false).then(setPlan, (error: unknown) => setFailure(errorDetail(error)));
    }, [domain, request]);
    const confirm = () => {
        setBusy(true);
        setFailure(null);
        consolidatePoints(domain, request, true).then(onDeleted, (error: unknown) => {
            setBusy(false);
            setFailure(errorDetail(error));
        });
    };
    return (
        <Modal id="delete-point-dialog" isOpen onClose={onClose} variant="small" aria-labelledby="delete-point-title">
            <ModalHeader title={cockpit.format(_("Delete restore point $0?"), request.point)} labelId="delete-point-title" titleIconVariant="warning" />
            <ModalBody>
                {failure && <Alert id="delete-point-failure" variant="danger" isInline component="h2" title={_("Nothing was deleted")}>{failure}</Alert>}
                {plan === null && !failure && <Spinner size="md" aria-label={_("Looking at the backup folder")} />}
                {plan !== null && (
                    <>
                        <p>{cockpit.format(_("These restore points can no longer be restored afterwards:"))}</p>
                        <List id="delete-point-list">
                            {plan.dropped.map(p => <ListItem key={p} data-point={p}>{p}</ListItem>)}
                        </List>
                        <p id="delete-point-summary">
                            {cockpit.format(_("Their changes are merged into $0, which stays restorable, as do all other points. This frees about $1."),
                                            request.until, bytes(Math.max(0, plan.freed)))}
                        </p>
                    </>
                )}
            </ModalBody>
            <ModalFooter>
                <Button id="delete-point-confirm" variant="danger" onClick={confirm} isLoading={busy} isDisabled={busy || plan === null}>
                    {_("Delete")}
                </Button>
                <Button variant="link" onClick={onClose}>{_("Cancel")}</Button>
            </ModalFooter>
        </Modal>
    );
}
