// The restore points in the VM's backup folder, newest first, with an empty state, and each point's
// actions (Verify, Restore…) in a kebab menu.
import { EmptyState, EmptyStateBody } from "@patternfly/react-core/dist/esm/components/EmptyState/index.js";
import { Label } from "@patternfly/react-core/dist/esm/components/Label/index.js";
import { MenuToggle } from "@patternfly/react-core/dist/esm/components/MenuToggle/index.js";
import { ActionsColumn } from "@patternfly/react-table/dist/esm/components/Table/ActionsColumn.js";
import EllipsisVIcon from "@patternfly/react-icons/dist/esm/icons/ellipsis-v-icon";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table/dist/esm/components/Table/index.js";
import CubesIcon from "@patternfly/react-icons/dist/esm/icons/cubes-icon";
import cockpit from "../lib/cockpit";
import type { RestorePoint, RestorePointList } from "../backup-types";
import { bytes, formatDate, levelName } from "./backup-text";

const _ = cockpit.gettext;

function pointSize(point: RestorePoint): number {
    return point.disks.reduce((n, d) => n + d.fileSize, 0);
}

function compression(point: RestorePoint): string {
    const compressed = point.disks.filter(d => d.compressed).length;
    if (compressed === 0)
        return _("No");
    return compressed === point.disks.length ? _("Yes") : _("Partly");
}

export interface BackupPointsProps {
    list: RestorePointList;
    /** Verify the point's chain; undefined hides the action. */
    onVerify?: (point: RestorePoint) => void;
    /** Open the restore dialog for the point; undefined hides the action. */
    onRestore?: (point: RestorePoint) => void;
    /** Why the actions are unavailable just now (a job or a verify runs); undefined when they are. */
    verifyDisabled?: boolean;
    restoreDisabled?: boolean;
}

function PointActions({ point, onVerify, onRestore, verifyDisabled, restoreDisabled }: Omit<BackupPointsProps, "list"> & { point: RestorePoint }) {
    const items = [
        ...(onVerify ? [{ title: _("Verify"), itemKey: "verify", isDisabled: verifyDisabled, onClick: () => onVerify(point) }] : []),
        ...(onRestore ? [{ title: _("Restore…"), itemKey: "restore", isDisabled: restoreDisabled || !point.complete, onClick: () => onRestore(point) }] : []),
    ];
    if (items.length === 0)
        return null;
    return (
        // In the page's <main>, not appended to <body>: an open menu stays inside a landmark (and, unlike an inline
        // one, is not narrowed to the table cell).
        <ActionsColumn items={items} popperProps={{ position: "right", appendTo: () => document.querySelector("main") ?? document.body }}
                       actionsToggle={({ onToggle, isOpen, isDisabled, toggleRef }) => (
                           <MenuToggle ref={toggleRef} id={`point-actions-${point.name}`} variant="plain" onClick={onToggle}
                                       isExpanded={isOpen} isDisabled={isDisabled} icon={<EllipsisVIcon />}
                                       aria-label={cockpit.format(_("Actions for $0"), point.name)} />
                       )} />
    );
}

export function BackupPoints({ list, onVerify, onRestore, verifyDisabled, restoreDisabled }: BackupPointsProps) {
    if (list.points.length === 0) {
        return (
            <EmptyState id="backup-points-empty" titleText={_("No restore points")} headingLevel="h3" icon={CubesIcon} variant="sm">
                <EmptyStateBody>
                    {list.exists
                        ? cockpit.format(_("The folder $0 holds no backups of this virtual machine yet."), list.folder)
                        : cockpit.format(_("The folder $0 does not exist yet: it is created by the first backup."), list.folder)}
                </EmptyStateBody>
            </EmptyState>
        );
    }
    return (
        <Table id="backup-points" aria-label={_("Restore points")} variant="compact">
            <Thead>
                <Tr>
                    <Th modifier="wrap">{_("Restore point")}</Th>
                    <Th modifier="wrap">{_("Type")}</Th>
                    <Th modifier="wrap">{_("Date")}</Th>
                    <Th modifier="wrap">{_("Disks")}</Th>
                    <Th modifier="wrap">{_("Size")}</Th>
                    <Th modifier="wrap">{_("Compressed")}</Th>
                    <Th modifier="wrap">{cockpit.gettext("restore point", "Complete")}</Th>
                    <Th screenReaderText={_("Actions")} />
                </Tr>
            </Thead>
            <Tbody>
                {[...list.points].reverse().map(p => (
                    <Tr key={`${p.level}:${p.name}`} data-point={p.name} data-level={p.level}>
                        <Td dataLabel={_("Restore point")} className="point-name">{p.name}</Td>
                        <Td dataLabel={_("Type")} className="point-level">{levelName(p.level)}</Td>
                        <Td dataLabel={_("Date")} className="point-date">{formatDate(p.date)}</Td>
                        <Td dataLabel={_("Disks")} className="point-disks">{p.disks.map(d => d.dev).join(", ")}</Td>
                        <Td dataLabel={_("Size")} className="point-size">{bytes(pointSize(p))}</Td>
                        <Td dataLabel={_("Compressed")} className="point-compressed">{compression(p)}</Td>
                        <Td dataLabel={cockpit.gettext("restore point", "Complete")} className="point-complete" data-complete={String(p.complete)}>
                            {p.complete
                                ? <Label color="green" isCompact>{cockpit.gettext("restore point", "Complete")}</Label>
                                : <Label color="orange" isCompact>{cockpit.gettext("restore point", "Incomplete")}</Label>}
                        </Td>
                        <Td isActionCell>
                            <PointActions point={p} onVerify={onVerify} onRestore={onRestore}
                                          verifyDisabled={verifyDisabled} restoreDisabled={restoreDisabled} />
                        </Td>
                    </Tr>
                ))}
            </Tbody>
        </Table>
    );
}
