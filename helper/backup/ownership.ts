// SPDX-License-Identifier: GPL-3.0-or-later
// Whose is a checkpoint? libvirt's checkpoints belong to the VM, chains to a folder, and every chain names
// its checkpoints virtnbdbackup.N: two folders of one VM reuse the same names. A folder's record of its own
// checkpoints is the definition it saved (checkpoints/<name>.xml); a checkpoint is the folder's only when
// libvirt's has the same creation time, description and VM. Pure: no I/O.
import type { CheckpointIdentity } from "../libvirt/domain-xml.ts";

/** One checkpoint in the host's registry of the checkpoints our runs made (checkpoint-registry.ts). */
export interface RegistryEntry {
    creationTime: string;
    /** The token of the run that made it (checkpointDescription): tells apart two made in one second. */
    token?: string;
    /** The backup folder whose chain it belongs to. */
    folder: string;
}

/** The description of a checkpoint a run creates: the run's token lets a later run know it as that run's. */
export function checkpointDescription(token: string): string {
    return `Backup checkpoint (run ${token})`;
}

/** The run token in a checkpoint's description, or undefined (made by another tool or an older version). */
export function descriptionToken(description: string | undefined): string | undefined {
    return /^Backup checkpoint \(run ([0-9a-f]{8,64})\)$/.exec(description ?? "")?.[1];
}

/** Seconds since 1970 as a UTC time a person reads. */
function when(creationTime: string): string {
    const ms = Number(creationTime) * 1000;
    return Number.isSafeInteger(ms) ? new Date(ms).toISOString().replace(/\.000Z$/, "Z") : creationTime;
}

/**
 * Why libvirt's checkpoint is not the one the folder recorded (`saved`, its checkpoints/<name>.xml), or
 * undefined when it is. `vmUuid` is the UUID of the VM being backed up.
 */
export function foreignCheckpointReason(libvirt: CheckpointIdentity, saved: CheckpointIdentity | undefined, vmUuid: string): string | undefined {
    const name = libvirt.name;
    if (!saved)
        return `this folder has no saved definition of checkpoint ${name} (checkpoints/${name}.xml), so libvirt's ${name} cannot be known as this folder's`;
    if (saved.name !== name)
        return `the folder's checkpoints/${name}.xml defines ${saved.name}, not ${name}`;
    if (saved.domainUuid && saved.domainUuid !== vmUuid.toLowerCase())
        return `this folder's checkpoint ${name} was made for another VM (UUID ${saved.domainUuid}, this VM's is ${vmUuid.toLowerCase()})`;
    if (libvirt.creationTime !== saved.creationTime)
        return `libvirt's checkpoint ${name} (made ${when(libvirt.creationTime)}) is not this folder's (made ${when(saved.creationTime)}): another backup folder of this VM, or another tool, made it`;
    if ((libvirt.description ?? "") !== (saved.description ?? ""))
        return `libvirt's checkpoint ${name} is not this folder's (another run's mark in its description): another backup folder of this VM, or another tool, made it`;
    return undefined;
}

/**
 * Whether the folder's saved checkpoint may be redefined in libvirt (which forgot it): not when the host's
 * registry knows a later checkpoint of the same name, made for another chain, whose bitmap the redefined
 * checkpoint would take as its own. No entry (host moved, registry lost): trusted as before.
 */
export function redefineRefusal(saved: CheckpointIdentity, entry: RegistryEntry | undefined): string | undefined {
    if (!entry || (entry.creationTime === saved.creationTime && (entry.token === undefined || entry.token === descriptionToken(saved.description))))
        return undefined;
    return `checkpoint ${saved.name} cannot be redefined from this folder: a checkpoint of that name was made since (${when(entry.creationTime)}, for the backups in ${entry.folder}), and the disks' bitmap ${saved.name} counts the changes since that one`;
}
