// SPDX-License-Identifier: GPL-3.0-or-later
// The start page: every libvirt VM on the host with its state and disks.
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { Label } from "@patternfly/react-core/dist/esm/components/Label/index.js";
import { Card, CardBody, CardHeader, CardTitle } from "@patternfly/react-core/dist/esm/components/Card/index.js";
import { PageSection } from "@patternfly/react-core/dist/esm/components/Page/index.js";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table/dist/esm/components/Table/index.js";
import cockpit from "../lib/cockpit";
import type { DomainSummary } from "../vm-types";
import type { VmListState } from "./hooks";
import { DiskList } from "./disks";
import { VmStateLabel } from "./vm-state";
import { HelperErrorState, LoadingState, NoVmsState } from "./states";
import { vmHref } from "./routes";
import { QueueSetting } from "./queue-setting";
import { BackupSizeCell, FailedSchedulesAlert, LastBackupCell, NewestPointCell, NextRunCell, scheduledFailure } from "./vm-backup-cells";

const _ = cockpit.gettext;

function VmTable({ vms }: { vms: DomainSummary[] }) {
    return (
        <Table id="vm-list" aria-label={_("Virtual machines")} variant="compact">
            <Thead>
                <Tr>
                    <Th width={15}>{_("Name")}</Th>
                    <Th width={10}>{_("State")}</Th>
                    <Th width={15}>{_("Disks")}</Th>
                    <Th width={20} modifier="wrap">{_("Last backup")}</Th>
                    <Th modifier="wrap">{_("Next backup")}</Th>
                    <Th modifier="wrap">{_("Newest restore point")}</Th>
                    <Th modifier="wrap">{_("Backup size")}</Th>
                </Tr>
            </Thead>
            <Tbody>
                {vms.map(vm => (
                    <Tr key={vm.uuid} data-vm={vm.name} data-backup-failed={scheduledFailure(vm.backup)}>
                        <Td dataLabel={_("Name")} className="vm-name">
                            <Button variant="link" isInline component="a" href={vmHref(vm.name)}>{vm.name}</Button>
                            {!vm.persistent &&
                                <Label isCompact variant="outline" className="vm-transient">{_("Transient")}</Label>}
                        </Td>
                        <Td dataLabel={_("State")}><VmStateLabel state={vm.state} /></Td>
                        <Td dataLabel={_("Disks")}><DiskList disks={vm.disks} /></Td>
                        <Td dataLabel={_("Last backup")}><LastBackupCell backup={vm.backup} /></Td>
                        <Td dataLabel={_("Next backup")}><NextRunCell backup={vm.backup} /></Td>
                        <Td dataLabel={_("Newest restore point")}><NewestPointCell backup={vm.backup} /></Td>
                        <Td dataLabel={_("Backup size")}><BackupSizeCell backup={vm.backup} /></Td>
                    </Tr>
                ))}
            </Tbody>
        </Table>
    );
}

function listBody(state: VmListState, reload: () => void) {
    switch (state.status) {
    case "loading":
        return <LoadingState title={_("Loading virtual machines")} />;
    case "error":
        return <HelperErrorState error={state.error} onRetry={reload} />;
    case "ready":
        return state.vms.length === 0 ? <NoVmsState /> : <><FailedSchedulesAlert vms={state.vms} /><VmTable vms={state.vms} /></>;
    }
}

export function VmListPage({ state, reload }: { state: VmListState; reload: () => void }) {
    return (
        <PageSection>
            <Card id="vm-list-card">
                <CardHeader actions={{
                    actions: (
                        <Button id="vm-list-refresh" variant="secondary" onClick={reload}
                                isDisabled={state.status === "loading"}>
                            {_("Refresh")}
                        </Button>
                    ),
                    hasNoOffset: false,
                }}>
                    <CardTitle component="h1">{_("Virtual machines")}</CardTitle>
                </CardHeader>
                <CardBody className="vnb-card-listing">
                    {listBody(state, reload)}
                    <QueueSetting />
                </CardBody>
            </Card>
        </PageSection>
    );
}
