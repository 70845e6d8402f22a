// SPDX-License-Identifier: GPL-3.0-or-later
// The restore points in the VM's backup folder, grouped by chain (newest chain first, each with its date
// range and size), newest point first, with an empty state, and each point's actions (Verify, Restore…,
// Start from backup…, Browse files, Delete…) in a kebab menu.
import { EmptyState, EmptyStateBody } from "@patternfly/react-core/dist/esm/components/EmptyState/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { Label } from "@patternfly/react-core/dist/esm/components/Label/index.js";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table/dist/esm/components/Table/index.js";
import CubesIcon from "@patternfly/react-icons/dist/esm/icons/cubes-icon";
import cockpit from "../lib/cockpit";
import type { ChainSummary, RestorePoint, RestorePointList } from "../backup-types";
import { pointKey } from "../point-key";
import { bytes, formatDate, levelName } from "./backup-text";
import { deleteRequest, type PointDeleteRequest } from "./point-delete";
import { RowActions } from "./row-actions";

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
    /** Open the file browser of the point; undefined hides the action. */
    onBrowse?: (point: RestorePoint) => void;
    /** Open the start-from-backup dialog for the point; undefined hides the action. */
    onStartInstant?: (point: RestorePoint) => void;
    /** Why the actions are unavailable just now (a job or a verify runs); undefined when they are. */
    verifyDisabled?: boolean;
    restoreDisabled?: boolean;
    /** Ask to delete a chain (offered for every chain but the newest); undefined hides the action. */
    onDeleteChain?: (chain: string) => void;
    /** Ask to delete a point by merging it into the next (offered where point-delete.ts allows); undefined hides it. */
    onDeletePoint?: (request: PointDeleteRequest) => void;
}

type PointActionsProps = Omit<BackupPointsProps, "list" | "onDeleteChain" | "onDeletePoint"> & {
    point: RestorePoint;
    onDelete?: () => void;
};

function PointActions({ point, onVerify, onRestore, onBrowse, onStartInstant, verifyDisabled, restoreDisabled, onDelete }: PointActionsProps) {
    const items = [
        ...(onVerify ? [{ title: _("Verify"), itemKey: "verify", isDisabled: verifyDisabled, onClick: () => onVerify(point) }] : []),
        ...(onRestore ? [{ title: _("Restore…"), itemKey: "restore", isDisabled: restoreDisabled || !point.complete, onClick: () => onRestore(point) }] : []),
        ...(onStartInstant ? [{ title: _("Start from backup…"), itemKey: "instant", isDisabled: !point.complete, onClick: () => onStartInstant(point) }] : []),
        ...(onBrowse ? [{ title: _("Browse files"), itemKey: "browse", isDisabled: !point.complete, onClick: () => onBrowse(point) }] : []),
        ...(onDelete ? [{ title: _("Delete…"), itemKey: "delete", onClick: onDelete }] : []),
    ];
    if (items.length === 0)
        return null;
    return <RowActions id={`point-actions-${pointKey(point).replace("/", "-")}`} row={pointKey(point)} items={items} />;
}

/** The chains the points belong to, newest first, each with its points newest first. */
function byChain(list: RestorePointList): { chain: string; summary: ChainSummary | undefined; points: RestorePoint[] }[] {
    const groups: { chain: string; summary: ChainSummary | undefined; points: RestorePoint[] }[] = [];
    for (const p of list.points) {
        const chain = p.chain ?? "";
        let group = groups.find(g => g.chain === chain);
        if (!group) {
            group = { chain, summary: (list.chains ?? []).find(c => c.name === chain), points: [] };
            groups.push(group);
        }
        group.points.push(p);
    }
    return groups.reverse().map(g => ({ ...g, points: [...g.points].reverse() }));
}

function chainTitle(chain: string, summary: ChainSummary | undefined): string {
    // Numbered as the folders are (the folder itself is the first chain), with the folder to find it by.
    const name = chain === "" ? _("Chain 1, in the backup folder itself") : cockpit.format(_("Chain $0, in $1"), chain.replace(/^chain-/, ""), `${chain}/`);
    if (!summary?.firstDate || !summary.lastDate)
        return name;
    return cockpit.format(_("$0 · $1 – $2 · $3"), name, formatDate(summary.firstDate), formatDate(summary.lastDate), bytes(summary.totalSize));
}

export function BackupPoints({ list, onVerify, onRestore, onBrowse, onStartInstant, verifyDisabled, restoreDisabled, onDeleteChain, onDeletePoint }: BackupPointsProps) {
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
            {byChain(list).map((group, index) => (
            <Tbody key={`chain:${group.chain}`} className="backup-chain" data-chain={group.chain}>
                {/* A heading row per chain only when the folder holds more than one. */}
                {(list.chains ?? []).length > 1 && (
                    <Tr className="backup-chain-heading">
                        <Td colSpan={7} className="backup-chain-title">{chainTitle(group.chain, group.summary)}</Td>
                        <Td isActionCell>
                            {onDeleteChain && index > 0 && (
                                <Button variant="link" isInline className="backup-chain-delete" data-chain={group.chain}
                                        onClick={() => onDeleteChain(group.chain)}>
                                    {_("Delete chain…")}
                                </Button>
                            )}
                        </Td>
                    </Tr>
                )}
                {group.points.map(p => {
                    // The group lists newest first; the rule reads the chain oldest first.
                    const request = onDeletePoint ? deleteRequest([...group.points].reverse(), p) : null;
                    return (
                    <Tr key={`${p.level}:${p.name}`} data-point={p.name} data-chain={p.chain ?? ""} data-level={p.level}>
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
                            <PointActions point={p} onVerify={onVerify} onRestore={onRestore} onBrowse={onBrowse} onStartInstant={onStartInstant}
                                          verifyDisabled={verifyDisabled} restoreDisabled={restoreDisabled}
                                          onDelete={request && onDeletePoint ? () => onDeletePoint(request) : undefined} />
                        </Td>
                    </Tr>
                    );
                })}
            </Tbody>
            ))}
        </Table>
    );
}
