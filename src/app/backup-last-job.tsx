// SPDX-License-Identifier: GPL-3.0-or-later
// How the last job ended: an inline alert with what was made, why it failed, or that it was cancelled.
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import cockpit from "../lib/cockpit";
import type { BackupJobState } from "../backup-types";
import { bytes, formatTime, levelName } from "./backup-text";
import { formatDuration } from "./backup-rate";

const _ = cockpit.gettext;

export function BackupLastJob({ job }: { job: BackupJobState }) {
    const when = formatTime(job.finishedAt ?? job.updatedAt);
    const level = job.plannedLevel ?? job.level;
    if (job.state === "succeeded") {
        const data = job.result?.disks.reduce((n, d) => n + d.dataBytes, 0) ?? 0;
        const diskCount = job.result?.disks.length ?? job.disks.length;
        return (
            <Alert component="h2" id="backup-last-job" data-state={job.state} variant="success" isInline isPlain
                   title={cockpit.format(job.scheduled ? _("Automatic $0 backup $1 finished") : _("$0 backup $1 finished"), levelName(level), job.checkpoint ?? "")}>
                {cockpit.format(cockpit.ngettext("$0 on $1 disk in $2, at $3.", "$0 on $1 disks in $2, at $3.", diskCount),
                                bytes(data), String(diskCount), formatDuration(job.result?.seconds ?? 0), when)}
                {job.warnings.length > 0 && <ul className="backup-warnings">{job.warnings.map((w, i) => <li key={i}>{w}</li>)}</ul>}
            </Alert>
        );
    }
    if (job.state === "cancelled") {
        return (
            <Alert component="h2" id="backup-last-job" data-state={job.state} variant="warning" isInline isPlain
                   title={_("The last backup was cancelled")}>
                {cockpit.format(_("Cancelled at $0. No restore point was added."), when)}
            </Alert>
        );
    }
    return (
        <Alert component="h2" id="backup-last-job" data-state={job.state} variant="danger" isInline isPlain
               title={job.scheduled ? _("The last automatic backup failed") : _("The last backup failed")}>
            <span className="backup-error-message">{job.message ?? _("No reason was given.")}</span>
            {" "}{cockpit.format(_("($0)"), when)}
        </Alert>
    );
}
