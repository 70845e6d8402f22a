// SPDX-License-Identifier: GPL-3.0-or-later
// "Discard…" of a VM started from a backup: names what goes (the VM, its overlay files with everything written
// in it, the restore point's mapping) and that the backup stays, and removes it only when confirmed.
import { useState } from "react";
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { List, ListItem } from "@patternfly/react-core/dist/esm/components/List/index.js";
import { Modal, ModalBody, ModalFooter, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import cockpit from "../lib/cockpit";
import { discardInstantVm, errorDetail } from "../helper-client";
import type { InstantVmSummary } from "../instant-answer";

const _ = cockpit.gettext;

export interface DiscardInstantDialogProps {
    vm: InstantVmSummary;
    onClose: () => void;
    onDiscarded: () => void;
}

export function DiscardInstantDialog({ vm, onClose, onDiscarded }: DiscardInstantDialogProps) {
    const [busy, setBusy] = useState(false);
    const [failure, setFailure] = useState<string | null>(null);
    const confirm = () => {
        setBusy(true);
        setFailure(null);
        discardInstantVm(vm.name).then(onDiscarded, (error: unknown) => {
            setBusy(false);
            setFailure(errorDetail(error));
        });
    };
    return (
        <Modal id="discard-instant-dialog" isOpen onClose={busy ? undefined : onClose} variant="small" aria-labelledby="discard-instant-title">
            <ModalHeader title={cockpit.format(_("Discard $0?"), vm.name)} labelId="discard-instant-title" titleIconVariant="warning" />
            <ModalBody>
                {failure && <Alert id="discard-instant-failure" variant="danger" isInline component="h2" title={_("Nothing was discarded")}>{failure}</Alert>}
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
            <ModalFooter>
                <Button id="discard-instant-confirm" variant="danger" onClick={confirm} isLoading={busy} isDisabled={busy}>{_("Discard")}</Button>
                <Button variant="link" onClick={onClose} isDisabled={busy}>{_("Cancel")}</Button>
            </ModalFooter>
        </Modal>
    );
}
