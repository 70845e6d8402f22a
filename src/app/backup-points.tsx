// The restore points in the VM's backup folder, oldest first, with an empty state.
import { EmptyState, EmptyStateBody } from "@patternfly/react-core/dist/esm/components/EmptyState/index.js";
import { Label } from "@patternfly/react-core/dist/esm/components/Label/index.js";
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

export function BackupPoints({ list }: { list: RestorePointList }) {
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
                    <Th>{_("Restore point")}</Th>
                    <Th>{_("Type")}</Th>
                    <Th>{_("Date")}</Th>
                    <Th>{_("Disks")}</Th>
                    <Th>{_("Size")}</Th>
                    <Th>{_("Compressed")}</Th>
                    <Th>{_("Complete")}</Th>
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
                        <Td dataLabel={_("Complete")} className="point-complete" data-complete={String(p.complete)}>
                            {p.complete
                                ? <Label color="green" isCompact>{_("Complete")}</Label>
                                : <Label color="orange" isCompact>{_("Incomplete")}</Label>}
                        </Td>
                    </Tr>
                ))}
            </Tbody>
        </Table>
    );
}
