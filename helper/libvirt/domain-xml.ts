// SPDX-License-Identifier: GPL-3.0-or-later
// Domain XML in (one model, DomainConfig, for a VM's live definition and the copies backups save),
// backup and checkpoint XML out. Pure functions: no I/O. (restore/domain-config.ts rewrites a saved
// definition for a restored VM, keeping the rest of the document as it is.)
import { assertXmlText, attr, child, children, escapeXml, parseRoot, text, type XmlNode } from "./xml.ts";

/** What the guest sees a disk as (libvirt's <disk device=...>). */
export type DiskDevice = "disk" | "cdrom" | "floppy" | "lun";

/** Where a disk's data lives (libvirt's <disk type=...>). */
export type DiskSourceType = "file" | "block" | "network" | "volume" | "dir" | "nvme" | "vhostuser" | "vhostvdpa" | "other";

/** One <disk> of a domain definition. */
export interface DiskConfig {
    /** Guest target device, e.g. "vda"; also the NBD export name in our backups. */
    target: string;
    device: DiskDevice;
    type: DiskSourceType;
    /** Image format (<driver type=...>): "qcow2", "raw", ...; null when not given. */
    driverType: string | null;
    /** file: the image file; block: the device node; network: the source name; volume: "pool/volume"; else null. */
    path: string | null;
    /** Bus of the target ("virtio", "sata", "scsi", ...); null when not given. */
    bus: string | null;
    readonly: boolean;
    shareable: boolean;
    /** True when libvirt reports a backing image under the disk (an overlay, e.g. after an external snapshot). */
    backingStorePresent: boolean;
}

/** The boot files a domain names in <os> (a backup saves each as `<basename>.<ident>`). */
export type BootKind = "loader" | "nvram" | "kernel" | "initrd";
export const BOOT_KINDS: readonly BootKind[] = ["loader", "nvram", "kernel", "initrd"];

/**
 * A domain definition, as far as backup and restore read one: a VM's live definition (`virsh dumpxml`) or
 * the copy a backup saved (vmconfig.<ident>.xml).
 */
export interface DomainConfig {
    name: string;
    /** The definition's UUID; "" when it names none (a saved config written by hand). */
    uuid: string;
    /** Hypervisor type: "qemu", "kvm", ... */
    type: string;
    disks: DiskConfig[];
    /**
     * Paths of <os><loader> (firmware, e.g. OVMF_CODE.fd), <nvram> (the per-domain UEFI variable store, as text
     * or <source file>), <kernel> and <initrd> (direct kernel boot); absent ones left out.
     */
    boot: Partial<Record<BootKind, string>>;
    /** A QEMU guest agent channel is configured (filesystems can be frozen). */
    guestAgent: boolean;
}

const DISK_DEVICES: readonly DiskDevice[] = ["disk", "cdrom", "floppy", "lun"];
const SOURCE_TYPES: readonly DiskSourceType[] = ["file", "block", "network", "volume", "dir", "nvme", "vhostuser", "vhostvdpa"];

/**
 * Parses a domain XML into a DomainConfig; throws on a malformed document, the message starting with `what`
 * (the saved file's name, say).
 */
export function parseDomainXml(xml: string, what = "domain XML"): DomainConfig {
    let domain: XmlNode;
    try {
        domain = parseRoot(xml, "domain");
    } catch (err) {
        throw new Error(`${what}: ${(err as Error).message}`);
    }
    const name = text(child(domain, "name"));
    if (!name)
        throw new Error(`${what}: the domain has no name`);
    const os = child(domain, "os");
    const devices = child(domain, "devices");
    return {
        name,
        uuid: text(child(domain, "uuid")) ?? "",
        type: attr(domain, "type") ?? "",
        disks: devices ? children(devices, "disk").map(d => parseDisk(d, what)) : [],
        boot: os ? bootPaths(os) : {},
        guestAgent: devices ? children(devices, "channel")
                .some(c => attr(child(c, "target"), "name") === "org.qemu.guest_agent.0") : false,
    };
}

function bootPaths(os: XmlNode): Partial<Record<BootKind, string>> {
    const boot: Partial<Record<BootKind, string>> = {};
    for (const kind of BOOT_KINDS) {
        const node = child(os, kind);
        // libvirt >= 8.5 may write <nvram type='file'><source file='PATH'/></nvram>.
        const file = text(node) ?? (kind === "nvram" ? attr(child(node ?? {}, "source"), "file") : null);
        if (file)
            boot[kind] = file;
    }
    return boot;
}

function parseDisk(disk: XmlNode, what: string): DiskConfig {
    const target = attr(child(disk, "target"), "dev");
    if (!target)
        throw new Error(`${what}: a <disk> without <target dev=...>`);
    const device = oneOf(attr(disk, "device") ?? "disk", DISK_DEVICES, `${what}: unknown disk device`);
    // A source type newer than this code must not make the whole domain unreadable.
    const rawType = attr(disk, "type") ?? "file";
    const type: DiskSourceType = (SOURCE_TYPES as readonly string[]).includes(rawType) ? rawType as DiskSourceType : "other";
    const backing = child(disk, "backingStore");
    return {
        target,
        device,
        type,
        driverType: attr(child(disk, "driver"), "type"),
        path: sourcePath(type, child(disk, "source")),
        bus: attr(child(disk, "target"), "bus"),
        readonly: child(disk, "readonly") !== null,
        shareable: child(disk, "shareable") !== null,
        // An empty <backingStore/> is libvirt saying "no backing image".
        backingStorePresent: backing !== null && (attr(backing, "type") !== null || child(backing, "source") !== null),
    };
}

function sourcePath(type: DiskSourceType, source: XmlNode | null): string | null {
    if (!source)
        return null;
    switch (type) {
    case "file":
        return attr(source, "file");
    case "block":
        return attr(source, "dev");
    case "dir":
        return attr(source, "dir");
    case "network":
        return attr(source, "name");
    case "volume": {
        const pool = attr(source, "pool");
        const volume = attr(source, "volume");
        return pool && volume ? `${pool}/${volume}` : null;
    }
    default:
        return null;
    }
}

function oneOf<T extends string>(value: string, allowed: readonly T[], unknown: string): T {
    if (!(allowed as readonly string[]).includes(value))
        throw new Error(`${unknown} '${value}'`);
    return value as T;
}

/** One disk of a pull-mode backup job. */
export interface BackupDiskSpec {
    /** Target device, e.g. "vda"; used as the NBD export name too. */
    target: string;
    /** false: the disk is left out of the job (backup='no'). */
    backup: boolean;
    /** Scratch file for the fleecing overlay (libvirt creates it); libvirt picks one when omitted. */
    scratchFile?: string;
}

/** A pull-mode backup job: libvirt exports the disks over NBD on a unix socket. */
export interface PullBackupSpec {
    /** Absolute path of the unix socket libvirt's NBD server listens on. */
    socketPath: string;
    /** For inc/diff: the checkpoint the dirty bitmaps start from; omitted for full/copy. */
    incremental?: string | null;
    disks: BackupDiskSpec[];
}

/** Builds the <domainbackup mode='pull'> document for `virsh backup-begin`. */
export function buildPullBackupXml(spec: PullBackupSpec): string {
    checkAbsolutePath("socket path", spec.socketPath);
    checkTargets(spec.disks.map(d => d.target));
    const lines = ["<domainbackup mode='pull'>"];
    if (spec.incremental != null) {
        checkName("checkpoint name", spec.incremental);
        lines.push(`  <incremental>${escapeXml(spec.incremental)}</incremental>`);
    }
    lines.push(`  <server transport='unix' socket='${escapeXml(spec.socketPath)}'/>`);
    lines.push("  <disks>");
    for (const d of spec.disks) {
        const name = escapeXml(d.target);
        if (!d.backup) {
            lines.push(`    <disk name='${name}' backup='no'/>`);
            continue;
        }
        if (d.scratchFile === undefined) {
            // The schema wants type='file' together with backup='yes', scratch or not.
            lines.push(`    <disk name='${name}' backup='yes' type='file' exportname='${name}'/>`);
            continue;
        }
        checkAbsolutePath("scratch file", d.scratchFile);
        lines.push(`    <disk name='${name}' backup='yes' type='file' exportname='${name}'>`);
        lines.push(`      <scratch file='${escapeXml(d.scratchFile)}'/>`);
        lines.push("    </disk>");
    }
    lines.push("  </disks>");
    lines.push("</domainbackup>");
    return lines.join("\n") + "\n";
}

/** A checkpoint to create along with a backup job. */
export interface CheckpointSpec {
    /** e.g. "virtnbdbackup.0". */
    name: string;
    description?: string;
    /** Every disk of the domain: true gets a dirty bitmap (checkpoint='bitmap'), false is excluded ('no'). */
    disks: { target: string; checkpoint: boolean }[];
}

/** Builds the <domaincheckpoint> document for `virsh backup-begin ... CHECKPOINT.xml` / `checkpoint-create`. */
export function buildCheckpointXml(spec: CheckpointSpec): string {
    checkName("checkpoint name", spec.name);
    checkTargets(spec.disks.map(d => d.target));
    const lines = ["<domaincheckpoint>", `  <name>${escapeXml(spec.name)}</name>`];
    if (spec.description !== undefined) {
        assertXmlText("checkpoint description", spec.description);
        lines.push(`  <description>${escapeXml(spec.description)}</description>`);
    }
    lines.push("  <disks>");
    for (const d of spec.disks)
        lines.push(`    <disk name='${escapeXml(d.target)}' checkpoint='${d.checkpoint ? "bitmap" : "no"}'/>`);
    lines.push("  </disks>");
    lines.push("</domaincheckpoint>");
    return lines.join("\n") + "\n";
}

function checkAbsolutePath(what: string, p: string): void {
    assertXmlText(what, p);
    if (!p.startsWith("/"))
        throw new Error(`${what} must be an absolute path: ${p}`);
}

function checkName(what: string, name: string): void {
    assertXmlText(what, name);
    // libvirt rejects '/' in checkpoint names; an empty name means "let libvirt choose", never what we want.
    if (name === "" || name.includes("/"))
        throw new Error(`invalid ${what} '${name}'`);
}

function checkTargets(targets: string[]): void {
    if (targets.length === 0)
        throw new Error("no disks given");
    const seen = new Set<string>();
    for (const t of targets) {
        if (!/^[A-Za-z0-9_.-]+$/.test(t))
            throw new Error(`invalid disk target '${t}'`);
        if (seen.has(t))
            throw new Error(`disk target '${t}' given twice`);
        seen.add(t);
    }
}

/**
 * libvirt's estimate of the bytes changed since a checkpoint, per disk, from `virsh checkpoint-dumpxml
 * --size` (each <disk> with a bitmap carries size='N'). Disks without an estimate are left out.
 */
export function parseCheckpointSizes(xml: string): Map<string, number> {
    const root = parseRoot(xml, "domaincheckpoint");
    const sizes = new Map<string, number>();
    for (const disk of children(child(root, "disks") ?? {}, "disk")) {
        const name = attr(disk, "name");
        const size = attr(disk, "size");
        if (name === null || size === null)
            continue;
        if (!/^\d+$/.test(size) || !Number.isSafeInteger(Number(size)))
            throw new Error(`checkpoint size of ${name} is not a byte count: ${size}`);
        sizes.set(name, Number(size));
    }
    return sizes;
}

/** What tells one checkpoint from another of the same name: libvirt's creation time, its description, its VM. */
export interface CheckpointIdentity {
    name: string;
    /** Unix seconds, as libvirt prints them. */
    creationTime: string;
    description?: string;
    /** The UUID of the <domain> inside (present unless dumped with --no-domain). */
    domainUuid?: string;
}

/**
 * The name and UUID ("" when it names none) of the VM whose definition a checkpoint XML holds (a saved
 * checkpoints/<name>.xml); null when it holds none (dumped with --no-domain).
 */
export function parseCheckpointDomain(xml: string, what = "checkpoint XML"): { name: string; uuid: string } | null {
    let root: XmlNode;
    try {
        root = parseRoot(xml, "domaincheckpoint");
    } catch (err) {
        throw new Error(`${what}: ${(err as Error).message}`);
    }
    const domain = child(root, "domain");
    return domain ? { name: text(child(domain, "name")) ?? "", uuid: text(child(domain, "uuid")) ?? "" } : null;
}

/** The identity of a checkpoint from `virsh checkpoint-dumpxml` (or a saved copy of it). */
export function parseCheckpointIdentity(xml: string): CheckpointIdentity {
    const root = parseRoot(xml, "domaincheckpoint");
    const name = text(child(root, "name"));
    const creationTime = text(child(root, "creationTime"));
    if (name === null || creationTime === null || !/^\d+$/.test(creationTime))
        throw new Error("the checkpoint definition has no name or creation time");
    const description = text(child(root, "description")) ?? undefined;
    const domainUuid = text(child(child(root, "domain") ?? {}, "uuid"))?.toLowerCase() ?? undefined;
    return { name, creationTime, description, domainUuid };
}
