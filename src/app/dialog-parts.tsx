// SPDX-License-Identifier: GPL-3.0-or-later
// The parts every dialog shares around its form: the inline alert of a failed call and the footer with the
// submit button (loading while the call runs) and Cancel (use-dialog-action.ts runs the call).
import type { ReactNode } from "react";
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { ModalFooter } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import cockpit from "../lib/cockpit";

const _ = cockpit.gettext;

/** Why the dialog's call failed, under a title saying what did not happen; nothing before a failure. */
export function DialogFailure({ id, title, failure, variant = "danger" }: { id?: string; title: string; failure: string | null; variant?: "danger" | "warning" }) {
    if (failure === null)
        return null;
    return <Alert component="h2" id={id} variant={variant} isInline title={title}>{failure}</Alert>;
}

export interface DialogFooterProps {
    /** The dialog's call (use-dialog-action.ts): while it runs the submit button loads and Cancel is disabled. */
    action: { busy: boolean };
    /**
     * The submit button: its id (tests use it), text (another while busy), kind, and what it does (the form's
     * checks, then action.run()); none when there is nothing to submit.
     */
    submit?: { id: string; label: ReactNode; busyLabel?: ReactNode; variant?: "primary" | "danger"; isDisabled?: boolean; onClick: () => void };
    onClose: () => void;
    /** Default "Cancel". */
    closeLabel?: ReactNode;
}

export function DialogFooter({ action, submit, onClose, closeLabel }: DialogFooterProps) {
    return (
        <ModalFooter>
            {submit && (
                <Button id={submit.id} variant={submit.variant ?? "primary"} onClick={submit.onClick} isLoading={action.busy}
                        isDisabled={action.busy || submit.isDisabled}>
                    {action.busy && submit.busyLabel !== undefined ? submit.busyLabel : submit.label}
                </Button>
            )}
            <Button variant="link" onClick={onClose} isDisabled={action.busy}>{closeLabel ?? _("Cancel")}</Button>
        </ModalFooter>
    );
}
