// SPDX-License-Identifier: GPL-3.0-or-later
// The Backups tab's "Instant recovery" section: the VMs started from this VM's backups (name, state, the
// restore point they run on, their disks) with Move to storage… and Discard…. A VM moved to storage is an
// ordinary VM afterwards (the helper keeps no record of it): its row goes, and a success alert here says once
// where its disks are, until it is closed. Shown only when there is a VM or such an alert.
import { useState } from "react";
import { Alert, AlertActionCloseButton } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Label } from "@patternfly/react-core/dist/esm/components/Label/index.js";
import { Title } from "@patternfly/react-core/dist/esm/components/Title/index.js";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table/dist/esm/components/Table/index.js";
import cockpit from "../lib/cockpit";
import { listInstantVms } from "../helper-client";
import type { InstantMovedAnswer, InstantVmSummary } from "../instant-answer";
import { BackupError } from "./backup-error";
import { useLoad } from "./backup-hooks";
import { formatTime } from "./backup-text";
import { DiscardInstantDialog } from "./discard-instant-dialog";
import { MoveInstantDialog } from "./move-instant-dialog";
import { RowActions } from "./row-actions";
import { VmStateLabel } from "./vm-state";

const _ = cockpit.gettext;

export interface InstantVmsProps {
    domain: string;
    backupFolder: string;
    /** Changes when the page started one: list again. */
    generation: number;
    /** libvirt's state of the host's VMs as the page follows them (fresher than the list's own). */
    vmStates: Readonly<Record<string, string>>;
}

/** What the row says of a VM's state: its start, a holder that died (it cannot run on), or libvirt's state. */
function InstantState({ vm, liveState }: { vm: InstantVmSummary; liveState: string | undefined }) {
    if (vm.state === "starting")
        return <Label color="blue" isCompact>{_("Starting")}</Label>;
    if (vm.state === "failed")
        return <Label color="red" isCompact>{_("Failed to start")}</Label>;
    if (!vm.alive)
        return <Label color="red" isCompact>{_("The restore point's mapping ended")}</Label>;
    return <VmStateLabel state={liveState ?? vm.vmState ?? "no state"} />;
}

function InstantActions({ vm, liveState, onMove, onDiscard }: { vm: InstantVmSummary; liveState: string | undefined; onMove: () => void; onDiscard: () => void }) {
    // libvirt copies the disks of a running VM only.
    const movable = vm.state === "running" && vm.alive && (liveState ?? vm.vmState) === "running";
    return (
        <RowActions id={`instant-actions-${vm.name}`} row={vm.name} items={[
            { title: _("Move to storage…"), itemKey: "move", isDisabled: !movable, onClick: onMove },
            { title: _("Discard…"), itemKey: "discard", onClick: onDiscard },
        ]} />
    );
}

/** Says once that a VM was moved to storage and where its disks are now, until closed. */
function MovedAlert({ moved, onClose }: { moved: InstantMovedAnswer; onClose: () => void }) {
    const title = cockpit.format(_("$0 was moved to storage"), moved.name);
    return (
        <Alert component="h3" variant="success" isInline className="instant-moved-alert" data-name={moved.name} title={title}
               actionClose={<AlertActionCloseButton aria-label={cockpit.format(_("Close the note that $0 was moved"), moved.name)} onClose={onClose} />}>
            <p>{_("It is an ordinary virtual machine now and no longer needs the backup. Its disks:")}</p>
            <ul className="instant-moved-disks">{moved.disks.map(d => <li key={d}>{d}</li>)}</ul>
        </Alert>
    );
}

type Dialog = { move: InstantVmSummary } | { discard: InstantVmSummary } | null;

export function InstantVms({ domain, backupFolder, generation, vmStates }: InstantVmsProps) {
    // A VM that appears or goes (a start, a discard here or elsewhere) changes the list.
    const names = Object.keys(vmStates).sort().join("\n");
    const list = useLoad(() => listInstantVms(domain), `${domain}\n${generation}\n${names}`);
    const [moved, setMoved] = useState<InstantMovedAnswer[]>([]);
    const [dialog, setDialog] = useState<Dialog>(null);
    const vms = list.state.status === "ready" ? list.state.value.vms : [];

    if (list.state.status === "error")
        return <BackupError id="instant-vms-error" title={_("Cannot list the virtual machines started from a backup")} error={list.state.error} onRetry={list.reload} />;
    if (vms.length === 0 && moved.length === 0)
        return null;
    return (
        <section id="instant-recovery" aria-labelledby="instant-recovery-title">
            <Title headingLevel="h2" size="lg" className="backup-section-title" id="instant-recovery-title">{_("Instant recovery")}</Title>
            {moved.map(m => <MovedAlert key={m.name} moved={m} onClose={() => setMoved(all => all.filter(x => x !== m))} />)}
            {vms.length > 0 && <Table id="instant-vms" aria-label={_("Virtual machines started from a backup")} variant="compact">
                <Thead>
                    <Tr>
                        <Th modifier="wrap">{_("Name")}</Th>
                        <Th modifier="wrap">{_("State")}</Th>
                        <Th modifier="wrap">{_("Restore point")}</Th>
                        <Th modifier="wrap">{_("Started")}</Th>
                        <Th modifier="wrap">{_("Disks")}</Th>
                        <Th screenReaderText={_("Actions")} />
                    </Tr>
                </Thead>
                <Tbody>
                    {vms.map(vm => (
                        <Tr key={vm.name} data-name={vm.name} data-state={vm.state}>
                            <Td dataLabel={_("Name")} className="instant-name">{vm.name}</Td>
                            <Td dataLabel={_("State")} className="instant-state"><InstantState vm={vm} liveState={vmStates[vm.name]} /></Td>
                            <Td dataLabel={_("Restore point")} className="instant-point">{vm.point}</Td>
                            <Td dataLabel={_("Started")}>{formatTime(vm.startedAt)}</Td>
                            <Td dataLabel={_("Disks")} modifier="breakWord" className="instant-disks">
                                {vm.disks.map(d => cockpit.format(_("$0 on the backup, writes in $1"), d.dev, d.overlay)).join("; ")}
                            </Td>
                            <Td isActionCell>
                                <InstantActions vm={vm} liveState={vmStates[vm.name]} onMove={() => setDialog({ move: vm })} onDiscard={() => setDialog({ discard: vm })} />
                            </Td>
                        </Tr>
                    ))}
                </Tbody>
            </Table>}
            {dialog && "move" in dialog && (
                <MoveInstantDialog vm={dialog.move} backupFolder={backupFolder} onClose={() => setDialog(null)}
                                   onMoved={answer => {
                                       setMoved(m => [...m.filter(x => x.name !== answer.name), answer]);
                                       setDialog(null);
                                       list.reload();
                                   }} />
            )}
            {dialog && "discard" in dialog && (
                <DiscardInstantDialog vm={dialog.discard} onClose={() => setDialog(null)}
                                      onDiscarded={() => { setDialog(null); list.reload() }} />
            )}
        </section>
    );
}
