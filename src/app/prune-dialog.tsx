// SPDX-License-Identifier: GPL-3.0-or-later
// "Prune now" and "Delete chain…": asks the helper what keeping the last N chains, or deleting one chain,
// removes (a dry run), names it with the space it frees, and removes it only when confirmed.
import { useEffect, useState } from "react";
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { List, ListItem } from "@patternfly/react-core/dist/esm/components/List/index.js";
import { Modal, ModalBody, ModalFooter, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { Spinner } from "@patternfly/react-core/dist/esm/components/Spinner/index.js";
import cockpit from "../lib/cockpit";
import { deleteChain, errorDetail, pruneChains } from "../helper-client";
import type { PruneAnswer } from "../backup-types";
import { bytes } from "./backup-text";

const _ = cockpit.gettext;

export interface PruneDialogProps {
    domain: string;
    /** Keep the last N chains, or remove the one chain named. */
    request: { keep: number } | { chain: string };
    onClose: () => void;
    onPruned: () => void;
}

function failureText(error: unknown): string {
    return errorDetail(error);
}

function chainName(name: string): string {
    return name === "" ? _("the chain in the backup folder itself") : name;
}

export function PruneDialog({ domain, request, onClose, onPruned }: PruneDialogProps) {
    const [plan, setPlan] = useState<PruneAnswer | null>(null);
    const [busy, setBusy] = useState(false);
    // A preview that is refused (a chain in use, the newest chain) removed nothing: it says why, as a warning.
    const [failure, setFailure] = useState<{ text: string; preview: boolean } | null>(null);
    const keep = "keep" in request ? request.keep : null;
    const chain = "chain" in request ? request.chain : null;
    const ask = (remove: boolean) => chain !== null ? deleteChain(domain, chain, remove) : pruneChains(domain, keep!, remove);
    useEffect(() => {
        ask(false).then(setPlan, (error: unknown) => setFailure({ text: failureText(error), preview: true }));
    }, [domain, keep, chain]);  // eslint-disable-line react-hooks/exhaustive-deps
    const confirm = () => {
        setBusy(true);
        setFailure(null);
        ask(true).then(onPruned, (error: unknown) => {
            setBusy(false);
            setFailure({ text: failureText(error), preview: false });
        });
    };
    const nothing = plan !== null && plan.removed.length === 0;
    return (
        <Modal id="prune-dialog" isOpen onClose={onClose} variant="small" aria-labelledby="prune-title">
            <ModalHeader title={chain !== null ? cockpit.format(_("Delete $0?"), chainName(chain)) : cockpit.format(_("Keep the last $0 chains"), keep)}
                         labelId="prune-title" titleIconVariant={nothing ? undefined : "warning"} />
            <ModalBody>
                {failure && (
                    <Alert id="prune-failure" variant={failure.preview ? "warning" : "danger"} isInline component="h2"
                           title={failure.preview ? _("This cannot be removed now") : _("Nothing was removed")}>{failure.text}</Alert>
                )}
                {plan === null && !failure && <Spinner size="md" aria-label={_("Looking at the backup folder")} />}
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
            <ModalFooter>
                {!nothing && (
                    <Button id="prune-confirm" variant="danger" onClick={confirm} isLoading={busy} isDisabled={busy || plan === null}>
                        {_("Remove")}
                    </Button>
                )}
                <Button variant="link" onClick={onClose}>{nothing ? _("Close") : _("Cancel")}</Button>
            </ModalFooter>
        </Modal>
    );
}
