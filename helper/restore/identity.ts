// Files of another VM in a backup folder: the saved domain configs, checkpoint XMLs and checkpoint
// lists must all name one VM. (Data files carry no VM identity; chain.ts catches foreign ones by their
// checkpoints, sizes and dates.)
import { ChainError } from "./chain.ts";
import type { BackupFolder } from "./folder.ts";

export interface VmIdentity {
    name: string;
    uuid: string | null;
}

/** The VM the folder belongs to; throws ChainError naming the first file that belongs to another one. */
export function folderIdentity(folder: BackupFolder): VmIdentity | null {
    if (folder.checkpointLists.length > 1) {
        throw new ChainError(`the folder holds checkpoint lists of several VMs: ${folder.checkpointLists.map(c => c.name).join(", ")}`,
                             folder.checkpointLists[1].name);
    }
    const cptVm = folder.checkpointLists[0]?.vm;
    // Reference: the VM the checkpoint list is for, else the first saved config.
    const reference = (cptVm !== undefined ? folder.configs.find(c => c.config.name === cptVm) : undefined) ?? folder.configs[0];
    const identity: VmIdentity | null = reference
        ? { name: reference.config.name, uuid: reference.config.uuid }
        : cptVm !== undefined ? { name: cptVm, uuid: null } : null;
    if (!identity)
        return null;
    if (cptVm !== undefined && cptVm !== identity.name) {
        throw new ChainError(`${folder.checkpointLists[0].name}: checkpoint list of VM "${cptVm}", but the saved configs are of "${identity.name}"`,
                             folder.checkpointLists[0].name);
    }
    const sameVm = (name: string, uuid: string | null) =>
        // A VM may be renamed during its chain; its uuid stays.
        identity.uuid !== null && uuid !== null ? uuid === identity.uuid : name === identity.name;
    for (const c of folder.configs) {
        if (!sameVm(c.config.name, c.config.uuid)) {
            throw new ChainError(`${c.name}: config of VM "${c.config.name}" (${c.config.uuid ?? "no uuid"}), but this backup is of ` +
                `"${identity.name}" (${identity.uuid ?? "no uuid"}): the folder mixes VMs`, c.name);
        }
    }
    for (const cp of folder.checkpointXmls) {
        if (cp.domain && !sameVm(cp.domain.name, cp.domain.uuid)) {
            throw new ChainError(`${cp.name}: checkpoint of VM "${cp.domain.name}" (${cp.domain.uuid ?? "no uuid"}), but this backup is of ` +
                `"${identity.name}": the folder mixes VMs`, cp.name);
        }
    }
    return identity;
}
