// SPDX-License-Identifier: GPL-3.0-or-later
// What a verify of a restore point found: a spinner with progress while it runs, then a success or
// failure alert with each file of the point's chain and its verdict.
import { Alert, AlertActionCloseButton } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Label } from "@patternfly/react-core/dist/esm/components/Label/index.js";
import { Progress } from "@patternfly/react-core/dist/esm/components/Progress/index.js";
import { Spinner } from "@patternfly/react-core/dist/esm/components/Spinner/index.js";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table/dist/esm/components/Table/index.js";
import cockpit from "../lib/cockpit";
import type { VerifyFile } from "../backup-types";
import { percent } from "./backup-rate";
import { bytes } from "./backup-text";
import type { VerifyRun } from "./verify-hooks";

const _ = cockpit.gettext;

function statusLabel(status: VerifyFile["status"]) {
    switch (status) {
    case "ok": return <Label color="green" isCompact>{_("Checksum OK")}</Label>;
    case "no-checksum": return <Label color="grey" isCompact>{_("No checksum")}</Label>;
    case "mismatch": return <Label color="red" isCompact>{_("Checksum mismatch")}</Label>;
    case "damaged": return <Label color="red" isCompact>{_("Damaged")}</Label>;
    }
}

function FileTable({ files }: { files: VerifyFile[] }) {
    return (
        <Table id="verify-files" aria-label={_("Verified files")} variant="compact" borders={false}>
            <Thead>
                <Tr>
                    <Th>{_("File")}</Th>
                    <Th>{_("Size")}</Th>
                    <Th>{_("Result")}</Th>
                </Tr>
            </Thead>
            <Tbody>
                {files.map(f => (
                    <Tr key={f.file} data-file={f.file} data-status={f.status}>
                        <Td dataLabel={_("File")} className="point-name">{f.file}</Td>
                        <Td dataLabel={_("Size")}>{bytes(f.size)}</Td>
                        <Td dataLabel={_("Result")}>
                            {statusLabel(f.status)}
                            {f.detail && <span className="backup-progress-detail"> {f.detail}</span>}
                        </Td>
                    </Tr>
                ))}
            </Tbody>
        </Table>
    );
}

export function VerifyResult({ run, onClose }: { run: VerifyRun; onClose: () => void }) {
    const close = <AlertActionCloseButton aria-label={_("Close the verify result")} onClose={onClose} />;
    if (run.status === "running") {
        const p = run.progress;
        return (
            <Alert component="h3" id="verify-result" data-state="running" data-point={run.point} variant="info" isInline
                   customIcon={<Spinner size="md" aria-label={_("Verifying")} />}
                   title={cockpit.format(_("Verifying restore point $0"), run.point)}>
                {p && p.count > 0
                    ? <Progress id="verify-progress" className="verify-progress" size="sm" value={percent(p.done, p.total)}
                                measureLocation="none" aria-label={_("Verify progress")}
                                helperText={<span id="verify-progress-text" className="backup-progress-detail">
                                    {cockpit.format(_("File $0 of $1 · $2 of $3 checked ($4%)"), String(Math.min(p.index + 1, p.count)),
                                                    String(p.count), bytes(p.done), bytes(p.total), String(percent(p.done, p.total)))}
                                </span>} />
                    : <span className="backup-progress-detail">{_("Reading the backup folder")}</span>}
            </Alert>
        );
    }
    if (run.status === "error") {
        return (
            <Alert component="h3" id="verify-result" data-state="error" data-point={run.point} variant="danger" isInline actionClose={close}
                   title={cockpit.format(_("Restore point $0 could not be verified"), run.point)}>
                <span className="vnb-error-detail">{run.error.detail}</span>
            </Alert>
        );
    }
    const { answer } = run;
    const bad = answer.files.filter(f => f.status === "mismatch" || f.status === "damaged").length;
    const unchecked = answer.files.filter(f => f.status === "no-checksum").length;
    return (
        <Alert component="h3" id="verify-result" data-state={answer.ok ? "ok" : "failed"} data-point={run.point} variant={answer.ok ? "success" : "danger"}
               isInline actionClose={close}
               title={answer.ok
                   ? cockpit.format(_("Restore point $0 is intact"), run.point)
                   : cockpit.format(_("Restore point $0 failed verification"), run.point)}>
            <p>
                {answer.ok
                    ? cockpit.format(cockpit.ngettext("The one file of its chain is neither damaged nor different from its checksum.",
                                                    "None of the $0 files of its chain is damaged or differs from its checksum.", answer.files.length),
                                   String(answer.files.length))
                    : bad === 0
                    // Refused for the chain itself (a gap, another VM's file, a damaged checkpoint list): the reason follows.
                    ? _("A restore of this point would be refused:")
                    : cockpit.format(cockpit.ngettext("$0 of $1 files of its chain is damaged or does not match its checksum.",
                                                      "$0 of $1 files of its chain are damaged or do not match their checksum.", bad),
                                     String(bad), String(answer.files.length))}
                {unchecked > 0 && " " + cockpit.format(cockpit.ngettext("$0 file has no checksum to compare with (backups of older virtnbdbackup versions).",
                                                                        "$0 files have no checksum to compare with (backups of older virtnbdbackup versions).", unchecked),
                                                       String(unchecked))}
            </p>
            {answer.problems.length > 0 && <ul className="backup-warnings">{answer.problems.map((w, i) => <li key={i}>{w}</li>)}</ul>}
            <FileTable files={answer.files} />
        </Alert>
    );
}
