// SPDX-License-Identifier: GPL-3.0-or-later
// The first question of a run, kept apart from the engine: the CLI asks it before it loads the rest.
import { LibvirtError, virsh } from "../libvirt/virsh.ts";
import { BackupRefusedError } from "./levels.ts";

/**
 * The domain's definition as it runs now (the one saved as vmconfig.<ident>.xml), as virsh prints it. A CLI
 * asks for it as soon as it knows the name, so the question runs while the engine's modules load.
 */
export function fetchDefinition(name: string, uri?: string): Promise<string> {
    if (!name || name.startsWith("-") || /[\0\n]/.test(name))
        return Promise.reject(new BackupRefusedError(`invalid domain name ${JSON.stringify(name)}`));
    return virsh(["dumpxml", "--domain", name], { uri }).catch(err => {
        if (err instanceof LibvirtError && err.code === "no-domain")
            throw new BackupRefusedError(`no virtual machine named ${name}`);
        throw err;
    });
}
