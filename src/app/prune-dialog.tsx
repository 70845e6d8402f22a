// SPDX-License-Identifier: GPL-3.0-or-later
// "Prune now" and "Delete chain…": asks the helper what keeping the last N chains, or deleting one chain,
// removes (a dry run), names it with the space it frees, and removes it only when confirmed.
import { useEffect, useState } from "react";
import { List, ListItem } from "@patternfly/react-core/dist/esm/components/List/index.js";
import { Modal, ModalBody, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { Spinner } from "@patternfly/react-core/dist/esm/components/Spinner/index.js";
import cockpit from "../lib/cockpit";
import { deleteChain, errorDetail, pruneChains } from "../helper-client";
import type { PruneAnswer } from "../backup-types";
import { bytes } from "./backup-text";
import { DialogFailure, DialogFooter } from "./dialog-parts";
import { useDialogAction } from "./use-dialog-action";

const _ = cockpit.gettext;

export interface PruneDialogProps {
    domain: string;
    /** Keep the last N chains, or remove the one chain named. */
    request: { keep: number } | { chain: string };
    onClose: () => void;
    onPruned: () => void;
}

function chainName(name: string): string {
    return name === "" ? _("the chain in the backup folder itself") : name;
}

export function PruneDialog({ domain, request, onClose, onPruned }: PruneDialogProps) {
    const [plan, setPlan] = useState<PruneAnswer | null>(null);
    // A preview that is refused (a chain in use, the newest chain) removed nothing: it says why, as a warning.
    const [previewFailure, setPreviewFailure] = useState<string | null>(null);
    const keep = "keep" in request ? request.keep : null;
    const chain = "chain" in request ? request.chain : null;
    const ask = (remove: boolean) => chain !== null ? deleteChain(domain, chain, remove) : pruneChains(domain, keep!, remove);
    useEffect(() => {
        ask(false).then(setPlan, (error: unknown) => setPreviewFailure(errorDetail(error)));
    }, [domain, keep, chain]);  // eslint-disable-line react-hooks/exhaustive-deps
    const removal = useDialogAction(() => ask(true), onPruned);
    const nothing = plan !== null && plan.removed.length === 0;
    return (
        <Modal id="prune-dialog" isOpen onClose={removal.busy ? undefined : onClose} variant="small" aria-labelledby="prune-title">
            <ModalHeader title={chain !== null ? cockpit.format(_("Delete $0?"), chainName(chain)) : cockpit.format(_("Keep the last $0 chains"), keep)}
                         labelId="prune-title" titleIconVariant={nothing ? undefined : "warning"} />
            <ModalBody>
                {removal.failure === null
                    ? <DialogFailure id="prune-failure" variant="warning" title={_("This cannot be removed now")} failure={previewFailure} />
                    : <DialogFailure id="prune-failure" title={_("Nothing was removed")} failure={removal.failure} />}
                {plan === null && previewFailure === null && <Spinner size="md" aria-label={_("Looking at the backup folder")} />}
                {nothing && <p id="prune-nothing">{_("There is nothing to remove.")}</p>}
                {plan !== null && !nothing && (
                    <>
                        <p>{cockpit.format(_("These chains and all their restore points are removed, freeing $0:"), bytes(plan.freed))}</p>
                        <List id="prune-chains">
                            {plan.removed.map(c => (
                                <ListItem key={c.name} data-chain={c.name}>{cockpit.format(_("$0: $1"), chainName(c.name), bytes(c.bytes))}</ListItem>
                            ))}
                        </List>
                        <p>{_("Files you put in the backup folder yourself stay.")}</p>
                    </>
                )}
            </ModalBody>
            <DialogFooter action={removal} onClose={onClose} closeLabel={nothing ? _("Close") : _("Cancel")}
                          submit={nothing ? undefined : { id: "prune-confirm", variant: "danger", label: _("Remove"), isDisabled: plan === null, onClick: removal.run }} />
        </Modal>
    );
}
