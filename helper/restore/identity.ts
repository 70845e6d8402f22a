// SPDX-License-Identifier: GPL-3.0-or-later
// Files of another VM in a backup folder: the saved domain configs, checkpoint XMLs and checkpoint
// lists must all name one VM. (Data files we write name their VM in the meta frame, checked against
// this identity by chain.ts checkOwners; the other tool's do not, and chain.ts catches foreign ones by
// their checkpoints, sizes and dates.)
import { ChainError, type FileOwner } from "./chain.ts";
import type { BackupFolder } from "./folder.ts";

export interface VmIdentity {
    name: string;
    uuid: string | null;
    /** The file the identity is read from (a saved config, the checkpoint list or a checkpoint XML). */
    from: string;
}

/** The identity as the owner data files must match; null when the folder names no UUID. */
export function ownerOf(identity: VmIdentity | null): FileOwner | null {
    return identity?.uuid ? { uuid: identity.uuid, from: identity.from } : null;
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
    let identity: VmIdentity | null = reference
        ? { name: reference.config.name, uuid: reference.config.uuid || null, from: reference.name }
        : cptVm !== undefined ? { name: cptVm, uuid: null, from: folder.checkpointLists[0].name } : null;
    if (!identity)
        return null;
    if (identity.uuid === null) {
        // No saved config with a UUID: a checkpoint XML of the VM names it.
        const named = folder.checkpointXmls.find(cp => cp.domain?.uuid && cp.domain.name === identity!.name);
        if (named)
            identity = { name: identity.name, uuid: named.domain!.uuid, from: named.name };
    }
    const ident = identity;
    if (cptVm !== undefined && cptVm !== identity.name) {
        throw new ChainError(`${folder.checkpointLists[0].name}: checkpoint list of VM "${cptVm}", but the saved configs are of "${identity.name}"`,
                             folder.checkpointLists[0].name);
    }
    const sameVm = (name: string, uuid: string | null) =>
        // A VM may be renamed during its chain; its uuid stays.
        ident.uuid !== null && uuid !== null ? uuid.toLowerCase() === ident.uuid.toLowerCase() : name === ident.name;
    for (const c of folder.configs) {
        if (!sameVm(c.config.name, c.config.uuid || null)) {
            throw new ChainError(`${c.name}: config of VM "${c.config.name}" (${c.config.uuid || "no uuid"}), but this backup is of ` +
                `"${ident.name}" (${ident.uuid ?? "no uuid"}): the folder mixes VMs`, c.name);
        }
    }
    for (const cp of folder.checkpointXmls) {
        if (cp.domain && !sameVm(cp.domain.name, cp.domain.uuid)) {
            throw new ChainError(`${cp.name}: checkpoint of VM "${cp.domain.name}" (${cp.domain.uuid ?? "no uuid"}), but this backup is of ` +
                `"${ident.name}": the folder mixes VMs`, cp.name);
        }
    }
    return ident;
}
