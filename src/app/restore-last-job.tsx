// SPDX-License-Identifier: GPL-3.0-or-later
// How the last restore ended: where the disks are and the new VM's name, why it failed, or that it was
// cancelled.
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import cockpit from "../lib/cockpit";
import type { RestoreJobState } from "../backup-types";
import { bytes, formatTime } from "./backup-text";

const _ = cockpit.gettext;

export function RestoreLastJob({ job }: { job: RestoreJobState }) {
    const when = formatTime(job.finishedAt ?? job.updatedAt);
    if (job.state === "succeeded") {
        const disks = job.result?.disks ?? [];
        return (
            <Alert component="h2" id="restore-last-job" data-state={job.state} variant="success" isInline isPlain
                   title={cockpit.format(_("Restore point $0 restored"), job.point)}>
                <p>
                    {job.result?.defined
                        ? cockpit.format(_("The new virtual machine $0 is defined with the restored disks."), job.result.defined)
                        : cockpit.format(_("The disks are in $0."), job.target)}
                    {" "}{cockpit.format(_("Finished at $0."), when)}
                </p>
                <ul className="backup-warnings" id="restore-outputs">
                    {disks.map(d => (
                        <li key={d.disk} data-disk={d.disk} data-output={d.output}>
                            {cockpit.format(_("$0: $1 ($2)"), d.disk, d.output, bytes(d.bytes))}
                        </li>
                    ))}
                </ul>
                {job.warnings.length > 0 && <ul className="backup-warnings">{job.warnings.map((w, i) => <li key={i}>{w}</li>)}</ul>}
            </Alert>
        );
    }
    if (job.state === "cancelled") {
        return (
            <Alert component="h2" id="restore-last-job" data-state={job.state} variant="warning" isInline isPlain title={_("The last restore was cancelled")}>
                {cockpit.format(_("Cancelled at $0. The files it had written were removed."), when)}
            </Alert>
        );
    }
    return (
        <Alert component="h2" id="restore-last-job" data-state={job.state} variant="danger" isInline isPlain title={_("The last restore failed")}>
            <span className="backup-error-message">{job.message ?? _("No reason was given.")}</span>
            {" "}{cockpit.format(_("($0)"), when)}
        </Alert>
    );
}
