// SPDX-License-Identifier: GPL-3.0-or-later
// "Delete…" of a restore point: asks the helper what merging it into the next point drops and frees (a dry
// run of helper consolidate), names it, and does it only when confirmed.
import { useEffect, useState } from "react";
import { List, ListItem } from "@patternfly/react-core/dist/esm/components/List/index.js";
import { Modal, ModalBody, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { Spinner } from "@patternfly/react-core/dist/esm/components/Spinner/index.js";
import cockpit from "../lib/cockpit";
import { consolidatePoints, errorDetail } from "../helper-client";
import type { ConsolidateAnswer } from "../backup-types";
import { bytes } from "./backup-text";
import { DialogFailure, DialogFooter } from "./dialog-parts";
import type { PointDeleteRequest } from "./point-delete";
import { useDialogAction } from "./use-dialog-action";

const _ = cockpit.gettext;

export interface DeletePointDialogProps {
    domain: string;
    request: PointDeleteRequest;
    onClose: () => void;
    onDeleted: () => void;
}

export function DeletePointDialog({ domain, request, onClose, onDeleted }: DeletePointDialogProps) {
    const [plan, setPlan] = useState<ConsolidateAnswer | null>(null);
    // The dry run's refusal (the point cannot be deleted now), or the deletion's failure.
    const [previewFailure, setPreviewFailure] = useState<string | null>(null);
    useEffect(() => {
        consolidatePoints(domain, request, false).then(setPlan, (error: unknown) => setPreviewFailure(errorDetail(error)));
    }, [domain, request]);
    const deletion = useDialogAction(() => consolidatePoints(domain, request, true), onDeleted);
    const failure = deletion.failure ?? previewFailure;
    return (
        <Modal id="delete-point-dialog" isOpen onClose={deletion.busy ? undefined : onClose} variant="small" aria-labelledby="delete-point-title">
            <ModalHeader title={cockpit.format(_("Delete restore point $0?"), request.point)} labelId="delete-point-title" titleIconVariant="warning" />
            <ModalBody>
                <DialogFailure id="delete-point-failure" title={_("Nothing was deleted")} failure={failure} />
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
            <DialogFooter action={deletion} onClose={onClose}
                          submit={{ id: "delete-point-confirm", variant: "danger", label: _("Delete"), isDisabled: plan === null, onClick: deletion.run }} />
        </Modal>
    );
}
