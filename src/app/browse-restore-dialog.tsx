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
import { browseRestore, errorDetail } from "../helper-client";
import type { HostRestoreResult } from "../browse-answer";
import { bytes } from "./backup-text";
import { FieldNote } from "./field-note";
import { FolderInput } from "./folder-input";
import { validateHostFolder } from "./instant-form";
import { targetErrorText } from "./restore-text";

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
    const [busy, setBusy] = useState(false);
    const [failure, setFailure] = useState<string | null>(null);
    const [result, setResult] = useState<HostRestoreResult | null>(null);
    const error = validateHostFolder(folder);
    const shown = submitted ? error : undefined;

    const restore = () => {
        setSubmitted(true);
        setFailure(null);
        if (error)
            return;
        setBusy(true);
        browseRestore(session, volume, path, folder).then(setResult, (e: unknown) => setFailure(errorDetail(e)))
                .finally(() => setBusy(false));
    };

    return (
        <Modal id="browse-restore-dialog" isOpen onClose={busy ? undefined : onClose} variant="small" aria-labelledby="browse-restore-title">
            <ModalHeader title={cockpit.format(_("Restore $0 to the host"), name)} labelId="browse-restore-title" description={path} />
            <ModalBody>
                {failure && <Alert component="h2" id="browse-restore-failure" variant="danger" isInline title={_("Nothing was restored")}>{failure}</Alert>}
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
            <ModalFooter>
                {result
                    ? <Button id="browse-restore-close" variant="primary" onClick={onClose}>{_("Close")}</Button>
                    : (
                        <>
                            <Button id="browse-restore-start" variant="primary" onClick={restore} isLoading={busy} isDisabled={busy}>{_("Restore")}</Button>
                            <Button variant="link" onClick={onClose} isDisabled={busy}>{_("Cancel")}</Button>
                        </>
                    )}
            </ModalFooter>
        </Modal>
    );
}
