// SPDX-License-Identifier: GPL-3.0-or-later
// "Discard…" of a VM started from a backup: names what goes (the VM, its overlay files with everything written
// in it, the restore point's mapping) and that the backup stays, and removes it only when confirmed.
import { List, ListItem } from "@patternfly/react-core/dist/esm/components/List/index.js";
import { Modal, ModalBody, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import cockpit from "../lib/cockpit";
import { discardInstantVm } from "../helper-client";
import type { InstantVmSummary } from "../instant-answer";
import { DialogFailure, DialogFooter } from "./dialog-parts";
import { useDialogAction } from "./use-dialog-action";

const _ = cockpit.gettext;

export interface DiscardInstantDialogProps {
    vm: InstantVmSummary;
    onClose: () => void;
    onDiscarded: () => void;
}

export function DiscardInstantDialog({ vm, onClose, onDiscarded }: DiscardInstantDialogProps) {
    const discard = useDialogAction(() => discardInstantVm(vm.name), onDiscarded);
    return (
        <Modal id="discard-instant-dialog" isOpen onClose={discard.busy ? undefined : onClose} variant="small" aria-labelledby="discard-instant-title">
            <ModalHeader title={cockpit.format(_("Discard $0?"), vm.name)} labelId="discard-instant-title" titleIconVariant="warning" />
            <ModalBody>
                <DialogFailure id="discard-instant-failure" title={_("Nothing was discarded")} failure={discard.failure} />
                <p>{_("This removes:")}</p>
                <List id="discard-instant-list">
                    <ListItem data-what="vm">{cockpit.format(_("The virtual machine $0, stopped and undefined"), vm.name)}</ListItem>
                    {vm.disks.map(d => (
                        <ListItem key={d.dev} data-what="overlay">
                            {cockpit.format(_("Its disk $0: $1, with everything written to it since it started"), d.dev, d.overlay)}
                        </ListItem>
                    ))}
                    <ListItem data-what="mapping">{cockpit.format(_("The mapping of restore point $0"), vm.point)}</ListItem>
                </List>
                <p>{_("The backup is not changed.")}</p>
            </ModalBody>
            <DialogFooter action={discard} onClose={onClose}
                          submit={{ id: "discard-instant-confirm", variant: "danger", label: _("Discard"), onClick: discard.run }} />
        </Modal>
    );
}
