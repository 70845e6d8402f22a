// SPDX-License-Identifier: GPL-3.0-or-later
// The VM a backup folder belongs to, from the files of its chains (saved configs, checkpoint lists and
// definitions: helper/restore/identity.ts): what a command given only a folder (virtnbdprune -o) locks and
// names. Every chain must name the same VM (by UUID); a folder that mixes VMs or names no UUID is refused.
import { resolveTrustedFolder } from "../fs/trusted-folder.ts";
import { readBackupFolder } from "../restore/folder.ts";
import { folderIdentity } from "../restore/identity.ts";
import { listChains } from "./chains.ts";

export interface FolderVm {
    /** The folder, resolved (real path). */
    folder: string;
    name: string;
    uuid: string;
}

export async function folderVm(dir: string): Promise<FolderVm> {
    const folder = resolveTrustedFolder(dir, "a backup folder").folder;
    const chains = listChains(folder);
    if (chains.length === 0)
        throw new Error(`${folder} holds no backup (no data files or checkpoint list, in the folder or a chain-N subfolder)`);
    let found: FolderVm | undefined;
    for (const chain of chains) {
        const identity = folderIdentity(await readBackupFolder(chain.folder));
        const where = chain.name || folder;
        if (!identity?.uuid)
            throw new Error(`${where}: no saved VM config or checkpoint names the VM's UUID: which VM's job lock to take is not known`);
        if (found && found.uuid.toLowerCase() !== identity.uuid.toLowerCase())
            throw new Error(`${where} holds backups of VM "${identity.name}" (${identity.uuid}), the rest of ${folder} of "${found.name}" (${found.uuid}): the folder mixes VMs`);
        // The newest chain's name: a VM renamed since the first chain.
        found = { folder, name: identity.name, uuid: identity.uuid.toLowerCase() };
    }
    return found!;
}
