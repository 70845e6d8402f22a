// The VM side of a run: its definition and state, which disks to back up, frozen guest filesystems.
import { parseDomainXml, type DiskConfig, type DomainConfig } from "../libvirt/domain-xml.ts";
import { LibvirtError, virsh } from "../libvirt/virsh.ts";
import { BackupRefusedError, type Level } from "./levels.ts";
import { errorMessage, type BackupOptions, type Note } from "./types.ts";

/** The domain's definition as it runs now (the one saved as vmconfig.<ident>.xml), parsed and as text. */
export async function loadDomain(name: string, uri?: string): Promise<{ domain: DomainConfig; xml: string }> {
    if (!name || name.startsWith("-") || /[\0\n]/.test(name))
        throw new BackupRefusedError(`invalid domain name ${JSON.stringify(name)}`);
    try {
        const xml = await virsh(["dumpxml", "--domain", name], { uri });
        return { domain: parseDomainXml(xml), xml };
    } catch (err) {
        if (err instanceof LibvirtError && err.code === "no-domain")
            throw new BackupRefusedError(`no virtual machine named ${name}`);
        throw err;
    }
}

export async function domainState(name: string, uri?: string): Promise<string> {
    return (await virsh(["domstate", "--domain", name], { uri })).trim();
}

export function selectDisks(domain: DomainConfig, level: Level, options: BackupOptions, note: Note): DiskConfig[] {
    const include = options.include?.length ? new Set(options.include) : undefined;
    const exclude = new Set(options.exclude ?? []);
    for (const t of [...(include ?? []), ...exclude]) {
        if (!domain.disks.some(d => d.target === t))
            throw new BackupRefusedError(`${domain.name} has no disk ${t}`);
    }
    const chosen: DiskConfig[] = [];
    for (const d of domain.disks) {
        if (d.device !== "disk" || (include && !include.has(d.target)) || exclude.has(d.target))
            continue;
        if (d.type !== "file" && d.type !== "block") {
            note({ event: "warning", message: `skipping ${d.target}: ${d.type} disks are not supported` });
            continue;
        }
        if (d.driverType !== "qcow2") {
            if (!options.raw) {
                note({ event: "warning", message: `skipping ${d.target}: ${d.driverType ?? "raw"} disks have no checkpoints (use -r/--raw to copy them in full)` });
                continue;
            }
            if (level === "inc" || level === "diff") {
                note({ event: "warning", message: `skipping raw disk ${d.target} in an ${level} backup` });
                continue;
            }
        }
        if (!d.path)
            throw new BackupRefusedError(`disk ${d.target} has no source path`);
        chosen.push(d);
    }
    if (chosen.length === 0)
        throw new BackupRefusedError(`${domain.name} has no disk to back up (qcow2 disks are backed up; raw ones with -r)`);
    return chosen;
}

export async function withFrozenFilesystems(domain: DomainConfig, mountpoints: string[] | undefined, uri: string | undefined, note: Note, fn: () => Promise<void>) {
    if (mountpoints && mountpoints.length === 0)
        return fn();
    if (!domain.guestAgent) {
        note({ event: "warning", message: `${domain.name} has no QEMU guest agent channel: filesystems are not frozen, the backup is crash-consistent` });
        return fn();
    }
    let frozen = false;
    try {
        const args = ["domfsfreeze", "--domain", domain.name, ...(mountpoints ?? []).flatMap(m => ["--mountpoint", m])];
        await virsh(args, { uri, timeoutMs: 30_000 });
        frozen = true;
    } catch (err) {
        note({ event: "warning", message: `guest filesystems not frozen (is the guest agent running?): the backup is crash-consistent. ${errorMessage(err)}` });
    }
    try {
        await fn();
    } finally {
        if (frozen)
            await virsh(["domfsthaw", "--domain", domain.name], { uri }).catch(e => note({ event: "warning", message: `thawing guest filesystems failed: ${errorMessage(e)}` }));
    }
}
