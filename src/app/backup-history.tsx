// SPDX-License-Identifier: GPL-3.0-or-later
// The History section of the Backups tab: the VM's jobs from the history on disk, newest first, each
// row expandable to its error, warnings and log (loaded when opened).
import { useState } from "react";
import { Title } from "@patternfly/react-core/dist/esm/components/Title/index.js";
import { Content } from "@patternfly/react-core/dist/esm/components/Content/index.js";
import { ExpandableRowContent, Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table/dist/esm/components/Table/index.js";
import cockpit from "../lib/cockpit";
import type { HistoryRecord } from "../backup-types";
import { HelperError, jobLog } from "../helper-client";
import { useJobHistory, type Loadable } from "./backup-hooks";
import { BackupError } from "./backup-error";
import { LoadingState } from "./states";
import { bytes, formatTime, levelName } from "./backup-text";
import { formatDuration } from "./backup-rate";
import { jobTypeName, ResultLabel } from "./history-text";
import type { JobLevel } from "../backup-types";

const _ = cockpit.gettext;

const LEVELS: readonly string[] = ["auto", "full", "inc", "diff", "copy", "new-chain"];

/** "Backup (Incremental)", "Restore of virtnbdbackup.3", "Verify of chain-2/virtnbdbackup.0", "Pruning". */
function jobText(r: HistoryRecord): string {
    if (r.type === "backup" && r.level && LEVELS.includes(r.level))
        return cockpit.format(_("$0 ($1)"), jobTypeName(r.type), levelName(r.level as JobLevel));
    if ((r.type === "restore" || r.type === "verify") && r.point)
        return cockpit.format(_("$0 of $1"), jobTypeName(r.type), r.point);
    return jobTypeName(r.type);
}

function RunDetails({ record, log }: { record: HistoryRecord; log: Loadable<string> | undefined }) {
    return (
        <Content className="history-details">
            {record.error && <p className="history-error">{record.error}</p>}
            {record.point && record.type === "backup" && <p>{cockpit.format(_("Restore point: $0"), record.point)}</p>}
            {record.queuedSeconds !== undefined && <p>{cockpit.format(_("Waited $0 for a free backup slot."), formatDuration(record.queuedSeconds))}</p>}
            {record.warnings.length > 0 && (
                <ul className="backup-warnings">{record.warnings.map((w, i) => <li key={i}>{w}</li>)}</ul>
            )}
            {log?.status === "loading" && <LoadingState title={_("Loading the log")} />}
            {log?.status === "error" && <p className="history-error">{cockpit.format(_("The log cannot be read: $0"), log.error.detail)}</p>}
            {log?.status === "ready" && (
                log.value.trim() === ""
                    ? <p>{_("This run wrote no log.")}</p>
                    : <pre className="history-log" tabIndex={0} aria-label={_("Log")}>{log.value}</pre>
            )}
        </Content>
    );
}

function HistoryTable({ domain, records }: { domain: string; records: HistoryRecord[] }) {
    const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
    const [logs, setLogs] = useState<Record<string, Loadable<string>>>({});
    const toggle = (id: string) => {
        const next = new Set(open);
        if (next.has(id))
            next.delete(id);
        else {
            next.add(id);
            if (logs[id]?.status !== "ready") {
                setLogs(l => ({ ...l, [id]: { status: "loading" } }));
                jobLog(domain, id).then(
                    answer => setLogs(l => ({ ...l, [id]: { status: "ready", value: answer.text } })),
                    (error: unknown) => setLogs(l => ({ ...l, [id]: { status: "error", error: error instanceof HelperError ? error : new HelperError("unexpected", String(error)) } })),
                );
            }
        }
        setOpen(next);
    };
    return (
        <Table id="backup-history" aria-label={_("Job history")} variant="compact">
            <Thead>
                <Tr>
                    <Th screenReaderText={_("Show details")} />
                    <Th>{_("Started")}</Th>
                    <Th>{_("Job")}</Th>
                    <Th>{_("Started by")}</Th>
                    <Th>{_("Result")}</Th>
                    <Th>{_("Duration")}</Th>
                    <Th>{_("Size")}</Th>
                </Tr>
            </Thead>
            {records.map((r, i) => {
                const isOpen = open.has(r.id);
                return (
                    <Tbody key={r.id} isExpanded={isOpen}>
                        <Tr data-run={r.id} data-type={r.type} data-result={r.result}>
                            <Td expand={{ rowIndex: i, isExpanded: isOpen, onToggle: () => toggle(r.id), expandId: "history-expand" }} />
                            <Td dataLabel={_("Started")} className="history-started">{formatTime(r.startedAt)}</Td>
                            <Td dataLabel={_("Job")} className="history-job">{jobText(r)}</Td>
                            <Td dataLabel={_("Started by")} className="history-kind">{r.kind === "scheduled" ? _("Schedule") : _("Manual")}</Td>
                            <Td dataLabel={_("Result")}>
                                <ResultLabel result={r.result} className="history-result" />
                                {r.warnings.length > 0 && r.result !== "failed" && (
                                    <span className="history-warning-count">
                                        {" "}{cockpit.format(cockpit.ngettext("$0 warning", "$0 warnings", r.warnings.length), String(r.warnings.length))}
                                    </span>
                                )}
                            </Td>
                            <Td dataLabel={_("Duration")} className="history-duration">
                                {r.endedAt !== undefined ? formatDuration(r.seconds ?? (r.endedAt - r.startedAt) / 1000) : "—"}
                            </Td>
                            <Td dataLabel={_("Size")} className="history-bytes">{r.bytes !== undefined ? bytes(r.bytes) : "—"}</Td>
                        </Tr>
                        <Tr isExpanded={isOpen} className="history-details-row">
                            <Td colSpan={7}>
                                {isOpen && <ExpandableRowContent><RunDetails record={r} log={logs[r.id]} /></ExpandableRowContent>}
                            </Td>
                        </Tr>
                    </Tbody>
                );
            })}
        </Table>
    );
}

/** `generation` changes when a job starts or ends: the history is read again. */
export function BackupHistory({ domain, generation }: { domain: string; generation: number }) {
    const history = useJobHistory(domain, generation);
    return (
        <>
            <Title headingLevel="h2" size="lg" className="backup-section-title">{_("History")}</Title>
            {history.state.status === "loading" && <LoadingState title={_("Reading the job history")} />}
            {history.state.status === "error" && (
                <BackupError id="backup-history-error" title={_("Cannot read the job history")} error={history.state.error} onRetry={history.reload} />
            )}
            {history.state.status === "ready" && (history.state.value.records.length === 0
                ? <p id="backup-history-empty">{_("No backup, restore, verify or pruning has run yet.")}</p>
                : <HistoryTable domain={domain} records={history.state.value.records} />)}
        </>
    );
}
