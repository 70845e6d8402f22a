// SPDX-License-Identifier: GPL-3.0-or-later
// The running job: overall and per-disk progress with bytes, throughput and time left, and Cancel.
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { Card, CardBody, CardHeader, CardTitle } from "@patternfly/react-core/dist/esm/components/Card/index.js";
import { Progress } from "@patternfly/react-core/dist/esm/components/Progress/index.js";
import { Stack, StackItem } from "@patternfly/react-core/dist/esm/layouts/Stack/index.js";
import cockpit from "../lib/cockpit";
import type { JobState } from "../backup-types";
import type { JobRates, Rate } from "./backup-hooks";
import { formatDuration, overall, percent } from "./backup-rate";
import { bytes, levelName } from "./backup-text";

const _ = cockpit.gettext;

/** "1.2 GiB of 4 GiB · 210 MiB/s · 0:17 left", with the parts that are known. */
export function progressDetail(done: number, total: number, rate: Rate, finished: boolean): string {
    if (total === 0 && !finished)
        return _("Preparing");
    const parts = [cockpit.format(_("$0 of $1"), bytes(done), bytes(total))];
    if (finished)
        parts.push(_("done"));
    else {
        if (rate.rate !== null)
            parts.push(cockpit.format(_("$0/s"), bytes(rate.rate)));
        if (rate.eta !== null)
            parts.push(cockpit.format(_("$0 left"), formatDuration(rate.eta)));
    }
    return parts.join(" · ");
}

export interface BackupProgressProps {
    job: JobState;
    rates: JobRates;
    cancelling: boolean;
    onCancel: () => void;
}

export function BackupProgress({ job, rates, cancelling, onCancel }: BackupProgressProps) {
    const sum = overall(job.disks);
    const level = job.kind === "restore" ? "full" : job.plannedLevel ?? job.level;
    return (
        <Card id="backup-progress" data-job={job.id} data-kind={job.kind} data-queued={job.queuedSince !== undefined} isCompact>
            <CardHeader actions={{
                actions: (
                    <Button id="backup-cancel" variant="secondary" isDanger onClick={onCancel}
                            isDisabled={cancelling} isLoading={cancelling}>
                        {cancelling ? _("Cancelling") : _("Cancel")}
                    </Button>
                ),
                hasNoOffset: false,
            }}>
                <CardTitle component="h2">
                    {job.queuedSince !== undefined ? _("Queued: waiting for a free backup slot") : job.kind === "restore"
                        ? cockpit.format(_("Restoring $0 into $1"), job.point, job.target)
                        : cockpit.format(_("$0 backup in progress"), levelName(level))}
                </CardTitle>
            </CardHeader>
            <CardBody>
                <Stack hasGutter>
                    <StackItem>
                        <Progress id="backup-progress-overall" title={_("All disks")} value={percent(sum.done, sum.total)}
                                  label={`${percent(sum.done, sum.total)}%`} measureLocation="outside"
                                  helperText={<span className="backup-progress-detail">{progressDetail(sum.done, sum.total, rates.overall, false)}</span>} />
                    </StackItem>
                    {job.disks.map(d => {
                        const finished = d.finishedAt !== undefined;
                        return (
                            <StackItem key={d.dev}>
                                <Progress id={`backup-progress-${d.dev}`} data-disk={d.dev} size="sm" title={d.dev}
                                          value={finished ? 100 : percent(d.done, d.total)} measureLocation="outside"
                                          label={`${finished ? 100 : percent(d.done, d.total)}%`}
                                          variant={finished ? "success" : undefined}
                                          helperText={<span className="backup-progress-detail">
                                              {progressDetail(d.done, d.total, rates.disks[d.dev] ?? { rate: null, eta: null }, finished)}
                                          </span>} />
                            </StackItem>
                        );
                    })}
                </Stack>
            </CardBody>
        </Card>
    );
}
