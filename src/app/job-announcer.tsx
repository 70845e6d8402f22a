// SPDX-License-Identifier: GPL-3.0-or-later
// What a screen reader hears about the VM's job without looking: that it runs and how far it is (in steps of
// 10 %, not every update), and how it ended. A polite live region that is always there, so changes are spoken.
import cockpit from "../lib/cockpit";
import type { JobState } from "../backup-types";
import { overall, percent } from "./backup-rate";
import { levelName } from "./backup-text";

const _ = cockpit.gettext;

/** The sentence for the job as it is now; "" when there is nothing to say. */
export function jobAnnouncement(job: JobState | null): string {
    if (job === null)
        return "";
    const restore = job.kind === "restore";
    switch (job.state) {
    case "running": {
        const sum = overall(job.disks);
        const tens = Math.floor(percent(sum.done, sum.total) / 10) * 10;
        const what = restore
            ? cockpit.format(_("Restoring $0 into $1"), job.point, job.target)
            : cockpit.format(_("$0 backup in progress"), levelName(job.plannedLevel ?? job.level));
        return cockpit.format(_("$0, $1% done"), what, String(tens));
    }
    case "succeeded":
        return restore
            ? cockpit.format(_("Restore point $0 restored"), job.point)
            : cockpit.format(job.scheduled ? _("Automatic $0 backup $1 finished") : _("$0 backup $1 finished"),
                             levelName(job.plannedLevel ?? job.level), job.checkpoint ?? "");
    case "cancelled":
        return restore ? _("The last restore was cancelled") : _("The last backup was cancelled");
    case "failed":
        return restore ? _("The last restore failed") : (job.scheduled ? _("The last automatic backup failed") : _("The last backup failed"));
    }
}

export function JobAnnouncer({ job }: { job: JobState | null }) {
    return (
        <div id="job-announcer" className="pf-v6-screen-reader" role="status" aria-live="polite" aria-atomic="true">
            {jobAnnouncement(job)}
        </div>
    );
}
