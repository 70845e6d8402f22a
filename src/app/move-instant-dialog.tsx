// SPDX-License-Identifier: GPL-3.0-or-later
// "Move to storage…" of a VM started from a backup: a folder for its disks, then the helper copies them
// whole while the VM runs (libvirt's blockcopy), disk by disk with live progress here, and drops the overlays
// and the mapping: the VM stands on its own. The dialog stays until the copy ended; closing the page stops it
// (the helper then aborts the copy and removes it: the VM runs on from the backup as before).
import { useState } from "react";
import { Form, FormGroup } from "@patternfly/react-core/dist/esm/components/Form/index.js";
import { Modal, ModalBody, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { Progress } from "@patternfly/react-core/dist/esm/components/Progress/index.js";
import cockpit from "../lib/cockpit";
import { moveInstantVm } from "../helper-client";
import type { InstantMovedAnswer, InstantMoveProgress, InstantVmSummary } from "../instant-answer";
import { DEFAULT_INSTANT_FOLDER } from "../../helper/protocol/instant-rules";
import { percent } from "./backup-rate";
import { bytes } from "./backup-text";
import { DialogFailure, DialogFooter } from "./dialog-parts";
import { FieldNote } from "./field-note";
import { FolderInput } from "./folder-input";
import { validateInstantFolder } from "./instant-form";
import { targetErrorText } from "./restore-text";
import { useDialogAction } from "./use-dialog-action";

const _ = cockpit.gettext;

export interface MoveInstantDialogProps {
    vm: InstantVmSummary;
    /** The backup folder of the VM it was started from (the disks may not go there). */
    backupFolder: string;
    onClose: () => void;
    onMoved: (moved: InstantMovedAnswer) => void;
}

export function MoveInstantDialog({ vm, backupFolder, onClose, onMoved }: MoveInstantDialogProps) {
    const [folder, setFolder] = useState(DEFAULT_INSTANT_FOLDER);
    const [submitted, setSubmitted] = useState(false);
    const [progress, setProgress] = useState<InstantMoveProgress | null>(null);
    const error = validateInstantFolder(folder, backupFolder);
    const shown = submitted ? error : undefined;
    const moving = useDialogAction(() => moveInstantVm(vm.name, folder, setProgress), onMoved);
    const busy = moving.busy;

    const move = () => {
        setSubmitted(true);
        if (error)
            return moving.refused();
        setProgress(null);  // a failed move's last progress
        moving.run();
    };

    const value = progress ? percent(progress.done, progress.total) : 0;
    return (
        <Modal id="move-instant-dialog" isOpen onClose={busy ? undefined : onClose} variant="medium" aria-labelledby="move-instant-title">
            <ModalHeader title={cockpit.format(_("Move $0 to storage"), vm.name)} labelId="move-instant-title" />
            <ModalBody>
                <DialogFailure id="move-instant-failure" title={_("The disks were not moved")} failure={moving.failure} />
                <p>
                    {_("The disks are copied whole into this folder while the virtual machine runs. Afterwards it no longer needs the backup: the overlays and the restore point's mapping are removed.")}
                </p>
                <Form id="move-instant-form" onSubmit={event => { event.preventDefault(); move() }}>
                    <FormGroup label={_("Folder for the disks")} fieldId="move-instant-folder" isRequired>
                        <FolderInput id="move-instant-folder" value={folder} isRequired isDisabled={busy} validated={shown ? "error" : "default"}
                                     onChange={setFolder} />
                        <FieldNote field="move-instant-folder" error={shown && targetErrorText(shown)}
                                   help={cockpit.format(_("An absolute path outside the backup folder; it is created when missing. The disks are named $0."),
                                                        `${vm.name}.<disk>.moved.qcow2`)} />
                    </FormGroup>
                </Form>
                {busy && (
                    <Progress id="move-instant-progress" value={value} label={`${value}%`} measureLocation="outside"
                              title={progress ? cockpit.format(_("Copying $0 (disk $1 of $2)"), progress.dev, progress.index + 1, progress.count) : _("Starting the copy")}
                              helperText={progress ? cockpit.format(_("$0 of $1"), bytes(progress.done), bytes(progress.total)) : undefined} />
                )}
                {busy && <p id="move-instant-leave-note">{_("Closing the page stops the move: the copies are removed and the virtual machine runs on from the backup as before.")}</p>}
            </ModalBody>
            <DialogFooter action={moving} onClose={onClose} submit={{ id: "move-instant-start", label: _("Move"), busyLabel: _("Moving…"), onClick: move }} />
        </Modal>
    );
}
