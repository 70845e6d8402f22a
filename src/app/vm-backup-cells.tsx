// SPDX-License-Identifier: GPL-3.0-or-later
// The VM list's backup columns: last backup (time and result, or the job running now), next scheduled
// run, newest restore point, backup size; and the alert naming every VM whose last automatic backup failed.
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { Label } from "@patternfly/react-core/dist/esm/components/Label/index.js";
import cockpit from "../lib/cockpit";
import type { DomainSummary } from "../vm-types";
import type { VmBackupOverview } from "../backup-types";
import { bytes, formatTime, levelName } from "./backup-text";
import { ResultLabel } from "./history-text";
import { vmHref } from "./routes";

const _ = cockpit.gettext;

/** The last automatic backup failed: shown as danger (icon and words) on the list and in the alert above it. */
export function scheduledFailure(backup: VmBackupOverview | undefined): boolean {
    return backup?.lastBackup?.result === "failed" && backup.lastBackup.scheduled;
}

export function LastBackupCell({ backup }: { backup: VmBackupOverview | undefined }) {
    if (backup?.job) {
        const text = backup.job.state === "queued" ? _("Queued") : backup.job.kind === "restore" ? _("Restoring") : _("Backing up");
        return <Label isCompact status="info" className="vm-job" data-job={backup.job.state}>{text}</Label>;
    }
    const last = backup?.lastBackup;
    if (!last)
        return <span className="vm-no-backup">{_("Never")}</span>;
    const text = last.result === "failed" ? (last.scheduled ? _("Automatic backup failed") : _("Failed"))
        : last.result === "ok" ? _("Succeeded") : undefined;
    return (
        <span className="vm-last-backup" data-result={last.result} data-scheduled={last.scheduled}>
            <span className="vm-last-backup-time">{formatTime(last.at)}</span>{" "}
            <ResultLabel result={last.result} {...(text ? { text } : {})} />
            {last.result === "failed" && last.error && <span className="vm-last-backup-error">{last.error}</span>}
        </span>
    );
}

export function NextRunCell({ backup }: { backup: VmBackupOverview | undefined }) {
    return <span className="vm-next-run">{backup?.nextRun ? formatTime(backup.nextRun) : _("Not scheduled")}</span>;
}

export function NewestPointCell({ backup }: { backup: VmBackupOverview | undefined }) {
    const p = backup?.newestPoint;
    if (!p)
        return <span className="vm-newest-point">{_("None")}</span>;
    const level = ["full", "inc", "diff", "copy"].includes(p.level) ? levelName(p.level as "full") : p.level;
    return <span className="vm-newest-point" data-level={p.level}>{cockpit.format(_("$0, $1"), formatTime(p.date), level)}</span>;
}

export function BackupSizeCell({ backup }: { backup: VmBackupOverview | undefined }) {
    return <span className="vm-backup-size">{backup?.totalSize !== null && backup?.totalSize !== undefined ? bytes(backup.totalSize) : "—"}</span>;
}

/** Above the list: every VM whose last automatic backup failed, by name, with a link to it. */
export function FailedSchedulesAlert({ vms }: { vms: DomainSummary[] }) {
    const failed = vms.filter(vm => scheduledFailure(vm.backup));
    if (failed.length === 0)
        return null;
    return (
        <Alert id="vm-list-failed-backups" variant="danger" isInline component="h2"
               title={cockpit.format(cockpit.ngettext("The last automatic backup of $0 virtual machine failed",
                                                      "The last automatic backups of $0 virtual machines failed", failed.length), String(failed.length))}>
            <ul>
                {failed.map(vm => (
                    <li key={vm.uuid} data-vm={vm.name}>
                        <Button variant="link" isInline component="a" href={vmHref(vm.name)}>{vm.name}</Button>
                        {vm.backup?.lastBackup?.error ? `: ${vm.backup.lastBackup.error}` : ""}
                    </li>
                ))}
            </ul>
        </Alert>
    );
}
