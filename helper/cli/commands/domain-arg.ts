// SPDX-License-Identifier: GPL-3.0-or-later
// The --domain value of the backup commands, and the VM it names (its UUID keys settings and jobs).
import { InvalidArgumentError } from "commander";
import { getDomain } from "../../libvirt/domains.ts";
import { LibvirtError } from "../../libvirt/virsh.ts";

/** A libvirt domain name as a command-line value: no option look-alike, no control characters. */
export function parseDomainName(value: string): string {
    if (value === "" || value.length > 1024 || value.startsWith("-") || /[\u0000-\u001f\u007f]/.test(value))
        throw new InvalidArgumentError("not a virtual machine name");
    return value;
}

/** No VM of that name (or UUID) is defined in libvirt. */
export class NoSuchVmError extends Error {
    override readonly name = "NoSuchVmError";
}

export interface NamedVm {
    name: string;
    uuid: string;
    /** The files of its file-backed disks, as its definition names them. */
    diskPaths: string[];
}

/** The VM's name, UUID and disk files; a clear error when there is no such VM. */
export async function findVm(name: string, uri?: string): Promise<NamedVm> {
    try {
        const config = await getDomain(name, uri);
        const diskPaths = config.disks.flatMap(d => d.type === "file" && d.path !== null ? [d.path] : []);
        return { name: config.name, uuid: config.uuid, diskPaths };
    } catch (err) {
        if (err instanceof LibvirtError && err.code === "no-domain")
            throw new NoSuchVmError(`there is no virtual machine named ${name}`);
        throw err;
    }
}

/** Writes a command's answer: one JSON line on stdout. */
export function answer(value: unknown): void {
    process.stdout.write(JSON.stringify(value) + "\n");
}
