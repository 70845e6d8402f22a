// SPDX-License-Identifier: GPL-3.0-or-later
// One VM's page: its backups (settings, jobs, restore points) and its disks.
import { useState } from "react";
import { Breadcrumb, BreadcrumbItem } from "@patternfly/react-core/dist/esm/components/Breadcrumb/index.js";
import { Card, CardBody } from "@patternfly/react-core/dist/esm/components/Card/index.js";
import { EmptyState, EmptyStateBody } from "@patternfly/react-core/dist/esm/components/EmptyState/index.js";
import { Flex } from "@patternfly/react-core/dist/esm/layouts/Flex/index.js";
import { PageBreadcrumb, PageSection } from "@patternfly/react-core/dist/esm/components/Page/index.js";
import { Tab, TabTitleText, Tabs } from "@patternfly/react-core/dist/esm/components/Tabs/index.js";
import { Title } from "@patternfly/react-core/dist/esm/components/Title/index.js";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table/dist/esm/components/Table/index.js";
import cockpit from "../lib/cockpit";
import type { DomainSummary } from "../vm-types";
import type { VmListState } from "./hooks";
import { deviceKind, diskFormat, diskSize } from "./disks";
import { bytes } from "./backup-text";
import { VmStateLabel } from "./vm-state";
import { HelperErrorState, LoadingState } from "./states";
import { LIST_HREF } from "./routes";
import { BackupsTab } from "./backup-tab";

const _ = cockpit.gettext;

function DiskTable({ vm }: { vm: DomainSummary }) {
    return (
        <Table id="vm-disks" aria-label={_("Disks")} variant="compact">
            <Thead>
                <Tr>
                    <Th>{_("Device")}</Th>
                    <Th>{_("Format")}</Th>
                    <Th>{_("Size")}</Th>
                    <Th>{_("Allocated")}</Th>
                    <Th>{_("Image")}</Th>
                </Tr>
            </Thead>
            <Tbody>
                {vm.disks.map(disk => (
                    <Tr key={disk.target} data-disk={disk.target}>
                        <Td dataLabel={_("Device")}>{disk.target}{deviceKind(disk) && ` (${deviceKind(disk)})`}</Td>
                        <Td dataLabel={_("Format")}>{disk.path === null ? "" : diskFormat(disk)}</Td>
                        <Td dataLabel={_("Size")}>{diskSize(disk)}</Td>
                        <Td dataLabel={_("Allocated")}>
                            {disk.allocation === null ? "" : bytes(disk.allocation)}
                        </Td>
                        <Td dataLabel={_("Image")} modifier="breakWord">{disk.path ?? ""}</Td>
                    </Tr>
                ))}
            </Tbody>
        </Table>
    );
}

function VmTabs({ vm, vms }: { vm: DomainSummary; vms: DomainSummary[] }) {
    const [active, setActive] = useState<string | number>("backups");
    return (
        <Tabs id="vm-tabs" activeKey={active} onSelect={(_event, key) => setActive(key)}
              aria-label={_("Virtual machine details")}>
            <Tab eventKey="backups" data-tab="backups" title={<TabTitleText>{_("Backups")}</TabTitleText>}>
                <div className="vnb-tab-body"><BackupsTab domain={vm.name} vmNames={vms.map(v => v.name)} vmStates={Object.fromEntries(vms.map(v => [v.name, v.state]))} /></div>
            </Tab>
            <Tab eventKey="disks" data-tab="disks" title={<TabTitleText>{_("Disks")}</TabTitleText>}>
                <DiskTable vm={vm} />
            </Tab>
        </Tabs>
    );
}

function detailBody(name: string, state: VmListState, reload: () => void) {
    if (state.status === "loading")
        return <LoadingState title={_("Loading virtual machines")} headingLevel="h1" />;
    if (state.status === "error")
        return <HelperErrorState error={state.error} onRetry={reload} headingLevel="h1" />;
    const vm = state.vms.find(v => v.name === name);
    if (!vm) {
        return (
            <EmptyState id="state-vm-missing" titleText={_("Virtual machine not found")} headingLevel="h1">
                <EmptyStateBody>{cockpit.format(_("There is no virtual machine named $0 on this host."), name)}</EmptyStateBody>
            </EmptyState>
        );
    }
    return (
        <>
            <Flex alignItems={{ default: "alignItemsCenter" }} className="vnb-detail-title">
                <Title headingLevel="h1" id="vm-name">{vm.name}</Title>
                <VmStateLabel state={vm.state} />
            </Flex>
            <VmTabs vm={vm} vms={state.vms} />
        </>
    );
}

export function VmDetailPage({ name, state, reload }: { name: string; state: VmListState; reload: () => void }) {
    return (
        <>
            <PageBreadcrumb>
                <Breadcrumb>
                    <BreadcrumbItem id="back-to-list" to={LIST_HREF}>{_("Virtual machines")}</BreadcrumbItem>
                    <BreadcrumbItem isActive>{name}</BreadcrumbItem>
                </Breadcrumb>
            </PageBreadcrumb>
            <PageSection id="vm-detail" data-vm={name}>
                <Card>
                    <CardBody>
                        {detailBody(name, state, reload)}
                    </CardBody>
                </Card>
            </PageSection>
        </>
    );
}
