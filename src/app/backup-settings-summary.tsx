// SPDX-License-Identifier: GPL-3.0-or-later
// The VM's backup settings as a description list, with the folder's size and chain length.
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import {
    DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm,
} from "@patternfly/react-core/dist/esm/components/DescriptionList/index.js";
import { HelperText, HelperTextItem } from "@patternfly/react-core/dist/esm/components/HelperText/index.js";
import cockpit from "../lib/cockpit";
import type { RestorePointList, SettingsAnswer } from "../backup-types";
import { bytes, scheduleText } from "./backup-text";

const _ = cockpit.gettext;

export interface BackupSettingsSummaryProps {
    settings: SettingsAnswer;
    points: RestorePointList | null;
    onEdit: () => void;
    editDisabled: boolean;
}

export function BackupSettingsSummary({ settings, points, onEdit, editDisabled }: BackupSettingsSummaryProps) {
    return (
        <DescriptionList id="backup-settings" isHorizontal isCompact horizontalTermWidthModifier={{ default: "14ch" }}>
            <DescriptionListGroup>
                <DescriptionListTerm>{_("Backup folder")}</DescriptionListTerm>
                <DescriptionListDescription>
                    <span id="backup-folder" className="backup-folder">{settings.folder}</span>
                    {" "}
                    <Button id="backup-settings-edit" variant="link" isInline onClick={onEdit} isDisabled={editDisabled}
                            aria-label={_("Edit backup settings")}>
                        {_("edit")}
                    </Button>
                </DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
                <DescriptionListTerm>{_("Compression")}</DescriptionListTerm>
                <DescriptionListDescription id="backup-compression" data-compress={String(settings.compress)}>
                    {settings.compress ? _("lz4") : _("Off")}
                </DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
                <DescriptionListTerm>{_("Schedule")}</DescriptionListTerm>
                <DescriptionListDescription>
                    <span id="backup-settings-schedule-summary" data-frequency={settings.schedule.frequency}>
                        {scheduleText(settings.schedule)}
                    </span>
                    {settings.timer && (
                        <HelperText id="backup-schedule-timer">
                            <HelperTextItem>{cockpit.format(_("Runs as the systemd timer $0"), settings.timer)}</HelperTextItem>
                        </HelperText>
                    )}
                    {settings.schedule.frequency !== "off" && settings.scheduler !== "running" && (
                        <HelperText id="backup-schedule-warning" data-scheduler={settings.scheduler}>
                            <HelperTextItem variant="warning">
                                {settings.scheduler === "missing"
                                    ? _("cron is not installed on this host: automatic backups do not start.")
                                    : _("cron is not running on this host: automatic backups do not start until it runs.")}
                            </HelperTextItem>
                        </HelperText>
                    )}
                </DescriptionListDescription>
            </DescriptionListGroup>
            {points?.exists && (
                <DescriptionListGroup>
                    <DescriptionListTerm>{_("Folder size")}</DescriptionListTerm>
                    <DescriptionListDescription id="backup-folder-size">
                        {bytes(points.totalSize)}
                        {points.chainLength > 0 && (
                            <span className="vnb-muted">
                                {" · "}
                                {cockpit.format(cockpit.ngettext("$0 checkpoint in the chain", "$0 checkpoints in the chain", points.chainLength), points.chainLength)}
                            </span>
                        )}
                    </DescriptionListDescription>
                </DescriptionListGroup>
            )}
        </DescriptionList>
    );
}
