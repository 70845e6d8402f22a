// SPDX-License-Identifier: GPL-3.0-or-later
// What is on a guest disk, from the tools' answers: pure, no I/O. sfdisk --json gives the partition table
// (MBR or GPT), blkid -p -o export the file system of a byte range.

/** A byte range of the disk that may hold a file system: a partition, or the whole disk. */
export interface Volume {
    /** "disk" for the whole disk, "p1", "p2", ... for partitions (sfdisk's numbering). */
    id: string;
    offset: number;
    size: number;
}

/** The volumes of a disk from `sfdisk --json`'s output (null: no partition table, the whole disk is one). */
export function volumesOf(sfdiskJson: string | null, diskSize: number): Volume[] {
    if (sfdiskJson === null)
        return [{ id: "disk", offset: 0, size: diskSize }];
    const table = (JSON.parse(sfdiskJson) as { partitiontable?: SfdiskTable }).partitiontable;
    if (!table)
        throw new Error("sfdisk printed no partition table");
    const sector = table.sectorsize ?? 512;
    const volumes: Volume[] = [];
    for (const p of table.partitions ?? []) {
        const number = /(\d+)$/.exec(p.node)?.[1];
        // Extended MBR partitions only hold the logical ones' table.
        if (!number || ["5", "f", "85"].includes(String(p.type).toLowerCase()))
            continue;
        const offset = p.start * sector;
        const size = p.size * sector;
        if (offset + size > diskSize || size === 0)
            continue;  // a damaged table: the range is not on the disk
        volumes.push({ id: `p${number}`, offset, size });
    }
    return volumes;
}

interface SfdiskTable {
    sectorsize?: number;
    partitions?: { node: string; start: number; size: number; type: string | number }[];
}

/** blkid's KEY=value lines as a map. */
export function parseBlkid(output: string): Map<string, string> {
    const fields = new Map<string, string>();
    for (const line of output.split("\n")) {
        const eq = line.indexOf("=");
        if (eq > 0)
            fields.set(line.slice(0, eq), line.slice(eq + 1));
    }
    return fields;
}

/**
 * How a guest file system is mounted: always read-only, nothing on it may run or act as a device or
 * setuid file, and no journal or log is replayed (a replay writes, even on a read-only mount's device).
 * xfs: nouuid, so that two sessions of the same point (same UUID) can both mount it.
 * null: a type this helper does not mount.
 */
export function mountOptions(type: string): string | null {
    const base = "ro,nosuid,nodev,noexec";
    switch (type) {
    case "ext2":
        return base;
    case "ext3":
    case "ext4":
        return `${base},noload`;
    case "xfs":
        return `${base},norecovery,nouuid`;
    case "vfat":
        return `${base},uid=0,gid=0,fmask=0177,dmask=0077`;
    case "btrfs":
        return `${base},rescue=nologreplay`;
    case "ntfs3":
        return base;
    default:
        return null;
    }
}

/** The kernel's name for a blkid type (blkid says "ntfs", the kernel's driver is ntfs3). */
export function kernelType(blkidType: string): string {
    return blkidType === "ntfs" ? "ntfs3" : blkidType;
}
