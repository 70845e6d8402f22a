// SPDX-License-Identifier: GPL-3.0-or-later
// The helper's JSON contract with the Cockpit UI. The UI imports these with `import type` only,
// so this file must stay free of runtime imports and values.
import type { VmBackupOverview } from "./job-types.ts";

export type { VmBackupOverview };

/** Domain states as `virsh domstate` names them (LC_ALL=C). */
export type DomainState =
    | "no state"
    | "running"
    | "idle"
    | "paused"
    | "in shutdown"
    | "shut off"
    | "crashed"
    | "pmsuspended";

/** One disk of a VM as `list-vms` reports it. */
export interface DiskSummary {
    /** Target device in the guest, e.g. "vda". */
    target: string;
    /** "disk", "cdrom", "floppy" or "lun". */
    device: string;
    /** Image format from the disk's driver element ("qcow2", "raw"), null when libvirt does not say. */
    format: string | null;
    /** Source file or block device (network disks: the source name); null for an empty drive. */
    path: string | null;
    /** Virtual size in bytes; null when libvirt cannot tell (missing file, empty drive). */
    capacity: number | null;
    /** Bytes allocated on the host; null when libvirt cannot tell. */
    allocation: number | null;
}

/** One libvirt domain (active or inactive) as `list-vms` reports it. */
export interface DomainSummary {
    name: string;
    uuid: string;
    state: DomainState;
    /** False for a transient domain (gone once it stops). */
    persistent: boolean;
    disks: DiskSummary[];
    /** What the VM list shows of its backups (list-vms only). */
    backup?: VmBackupOverview;
}

/** stdout of `helper list-vms`: one JSON line. */
export interface ListVmsAnswer {
    vms: DomainSummary[];
}
