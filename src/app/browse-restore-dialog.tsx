// SPDX-License-Identifier: GPL-3.0-or-later
// "Restore to host…" of a file or folder in the file browser: a host folder (made when missing), then the
// helper copies it there under its own name (root's files, 0600; never over something that exists) and the
// dialog says what it wrote, or why it did not.
import { useState } from "react";
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { Form, FormGroup } from "@patternfly/react-core/dist/esm/components/Form/index.js";
import { List, ListItem } from "@patternfly/react-core/dist/esm/components/List/index.js";
import { Modal, ModalBody, ModalFooter, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import cockpit from "../lib/cockpit";
import { browseRestore } from "../helper-client";
import type { HostRestoreResult } from "../browse-answer";
import { bytes } from "./backup-text";
import { DialogFailure, DialogFooter } from "./dialog-parts";
import { FieldNote } from "./field-note";
import { FolderInput } from "./folder-input";
import { validateHostFolder } from "./instant-form";
import { targetErrorText } from "./restore-text";
import { useDialogAction } from "./use-dialog-action";

const _ = cockpit.gettext;

/** The folder the dialog proposes: root's, as the copies are. */
const DEFAULT_HOST_FOLDER = "/root/restored";

export interface BrowseRestoreDialogProps {
    session: string;
    volume: string;
    /** The guest file or folder, and its name. */
    path: string;
    name: string;
    onClose: () => void;
}

function summary(result: HostRestoreResult): string {
    const counts = [cockpit.format(cockpit.ngettext("$0 file", "$0 files", result.files), result.files)];
    if (result.folders > 0)
        counts.push(cockpit.format(cockpit.ngettext("$0 folder", "$0 folders", result.folders), result.folders));
    return cockpit.format(_("$0: $1, $2."), result.target, counts.join(", "), bytes(result.bytes));
}

export function BrowseRestoreDialog({ session, volume, path, name, onClose }: BrowseRestoreDialogProps) {
    const [folder, setFolder] = useState(DEFAULT_HOST_FOLDER);
    const [submitted, setSubmitted] = useState(false);
    const [result, setResult] = useState<HostRestoreResult | null>(null);
    const error = validateHostFolder(folder);
    const shown = submitted ? error : undefined;
    // The dialog stays, saying what was written.
    const restoring = useDialogAction(() => browseRestore(session, volume, path, folder), setResult);
    const busy = restoring.busy;

    const restore = () => {
        setSubmitted(true);
        if (!error)
            restoring.run();
        else
            restoring.refused();
    };

    return (
        <Modal id="browse-restore-dialog" isOpen onClose={busy ? undefined : onClose} variant="small" aria-labelledby="browse-restore-title">
            <ModalHeader title={cockpit.format(_("Restore $0 to the host"), name)} labelId="browse-restore-title" description={path} />
            <ModalBody>
                <DialogFailure id="browse-restore-failure" title={_("Nothing was restored")} failure={restoring.failure} />
                {result && (
                    <Alert component="h2" id="browse-restore-done" variant="success" isInline title={_("Restored")}>
                        <p id="browse-restore-summary">{summary(result)}</p>
                        {result.skipped.length > 0 && (
                            <>
                                <p>{_("Not copied (links, devices, sockets and pipes):")}</p>
                                <List>{result.skipped.map(p => <ListItem key={p}>{p}</ListItem>)}</List>
                            </>
                        )}
                    </Alert>
                )}
                {!result && (
                    <Form id="browse-restore-form" onSubmit={event => { event.preventDefault(); restore() }}>
                        <FormGroup label={_("Host folder")} fieldId="browse-restore-folder" isRequired>
                            <FolderInput id="browse-restore-folder" value={folder} isRequired isDisabled={busy} validated={shown ? "error" : "default"}
                                         onChange={setFolder} />
                            <FieldNote field="browse-restore-folder" error={shown && targetErrorText(shown)}
                                       help={cockpit.format(_("$0 is copied into this folder, which is created when missing. The copy belongs to root and only root can read it."), name)} />
                        </FormGroup>
                    </Form>
                )}
            </ModalBody>
            {result
                ? (
                    <ModalFooter>
                        <Button id="browse-restore-close" variant="primary" onClick={onClose}>{_("Close")}</Button>
                    </ModalFooter>
                )
                : <DialogFooter action={restoring} onClose={onClose} submit={{ id: "browse-restore-start", label: _("Restore"), onClick: restore }} />}
        </Modal>
    );
}
