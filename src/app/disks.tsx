// SPDX-License-Identifier: GPL-3.0-or-later
// How a VM's disks are shown in the list: one line per disk (target, format, size).
import cockpit from "../lib/cockpit";
import type { DiskSummary } from "../vm-types";
import { bytes } from "./backup-text";

const _ = cockpit.gettext;

export function diskSize(disk: DiskSummary): string {
    if (disk.path === null)
        return _("empty");
    return disk.capacity === null ? _("unknown size") : bytes(disk.capacity);
}

export function diskFormat(disk: DiskSummary): string {
    return disk.format ?? _("unknown format");
}

/** Name of a device that is not a plain disk, null for "disk". */
export function deviceKind(disk: DiskSummary): string | null {
    switch (disk.device) {
    case "disk":
        return null;
    case "cdrom":
        return _("CD/DVD drive");
    case "floppy":
        return _("Floppy drive");
    default:
        return disk.device;
    }
}

export function DiskList({ disks }: { disks: DiskSummary[] }) {
    if (disks.length === 0)
        return <span className="vnb-muted">{_("No disks")}</span>;
    return (
        <ul className="vnb-disks">
            {disks.map(disk => {
                const kind = deviceKind(disk);
                return (
                    <li key={disk.target} data-disk={disk.target} title={disk.path ?? undefined}>
                        <span className="disk-target">{disk.target}</span>
                        {kind && <span className="disk-device">{kind}</span>}
                        {disk.path !== null && <span className="disk-format">{diskFormat(disk)}</span>}
                        <span className="disk-size">{diskSize(disk)}</span>
                    </li>
                );
            })}
        </ul>
    );
}
