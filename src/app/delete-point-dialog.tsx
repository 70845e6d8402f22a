// SPDX-License-Identifier: GPL-3.0-or-later
// "Delete…" of a restore point: asks the helper what merging it into the next point drops and frees (a dry
// run of helper consolidate), names it, and does it only when confirmed. The merge's progress shows here (bytes,
// throughput, time left), and Cancel stops it: the helper undoes it and the chain stays as it was.
import { useEffect, useRef, useState } from "react";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { List, ListItem } from "@patternfly/react-core/dist/esm/components/List/index.js";
import { Modal, ModalBody, ModalFooter, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { Progress } from "@patternfly/react-core/dist/esm/components/Progress/index.js";
import { Spinner } from "@patternfly/react-core/dist/esm/components/Spinner/index.js";
import cockpit from "../lib/cockpit";
import { consolidatePoints, deletePoint, errorDetail, type FollowedRun } from "../helper-client";
import type { ConsolidateAnswer, MergeProgress } from "../backup-types";
import { addSample, percent, secondsLeft, throughput, type Sample } from "./backup-rate";
import { progressDetail } from "./backup-progress";
import { bytes } from "./backup-text";
import { DialogFailure } from "./dialog-parts";
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
    const [progress, setProgress] = useState<{ line: MergeProgress; samples: Sample[] } | null>(null);
    const [cancelling, setCancelling] = useState(false);
    const running = useRef<FollowedRun<ConsolidateAnswer> | null>(null);
    useEffect(() => {
        consolidatePoints(domain, request, false).then(setPlan, (error: unknown) => setFailure(errorDetail(error)));
    }, [domain, request]);
    const confirm = () => {
        setBusy(true);
        setFailure(null);
        const run = deletePoint(domain, request, line => setProgress(last => ({
            line, samples: addSample(last?.line.file === line.file ? last.samples : [], { at: Date.now(), done: line.done }),
        })));
        running.current = run;
        run.result.then(onDeleted, (error: unknown) => {
            running.current = null;
            setBusy(false);
            setCancelling(false);
            setProgress(null);
            setFailure(errorDetail(error));
        });
    };
    const cancel = () => {
        setCancelling(true);
        running.current?.cancel();
    };
    const rate = progress ? throughput(progress.samples) : null;
    return (
        <Modal id="delete-point-dialog" isOpen onClose={busy ? undefined : onClose} variant="small" aria-labelledby="delete-point-title">
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
                {busy && (
                    <Progress id="delete-point-progress" data-done={progress?.line.done ?? 0} data-total={progress?.line.total ?? 0}
                              value={progress ? percent(progress.line.done, progress.line.total) : 0}
                              label={`${progress ? percent(progress.line.done, progress.line.total) : 0}%`} measureLocation="outside"
                              title={progress ? cockpit.format(_("Writing $0 (file $1 of $2)"), progress.line.file, progress.line.index + 1, progress.line.count)
                                  : _("Starting the merge")}
                              helperText={progress ? progressDetail(progress.line.done, progress.line.total,
                                                                    { rate, eta: secondsLeft(progress.line.done, progress.line.total, rate) }, false) : undefined} />
                )}
                {busy && <p id="delete-point-cancel-note">{_("Cancel stops the merge: the restore points stay as they were.")}</p>}
            </ModalBody>
            <ModalFooter>
                <Button id="delete-point-confirm" variant="danger" onClick={confirm} isLoading={busy} isDisabled={busy || plan === null}>
                    {_("Delete")}
                </Button>
                {busy
                    ? (
                        <Button id="delete-point-cancel" variant="secondary" isDanger onClick={cancel} isDisabled={cancelling} isLoading={cancelling}>
                            {cancelling ? _("Cancelling") : _("Cancel")}
                        </Button>
                    )
                    : <Button variant="link" onClick={onClose}>{_("Cancel")}</Button>}
            </ModalFooter>
        </Modal>
    );
}
