// SPDX-License-Identifier: GPL-3.0-or-later
// The VM's checkpoints in libvirt: list, save, redefine, delete. Only our own (virtnbdbackup.N) are
// ever changed; foreign checkpoints are left alone.
import fs from "node:fs";
import path from "node:path";
import { parseCheckpointIdentity, parseCheckpointSizes, type CheckpointIdentity } from "../libvirt/domain-xml.ts";
import { virsh } from "../libvirt/virsh.ts";
import { checkpointIndex } from "../format/names.ts";

export async function listCheckpoints(domain: string, uri?: string): Promise<string[]> {
    return parseCheckpointList(await virsh(checkpointListArgs(domain), { uri }));
}

export function checkpointListArgs(domain: string): string[] {
    return ["checkpoint-list", "--domain", domain, "--name", "--topological"];
}

/** Pure: the names `checkpoint-list --name` printed, oldest first. */
export function parseCheckpointList(out: string): string[] {
    return out.split("\n").map(s => s.trim()).filter(Boolean);
}

export async function checkpointXml(domain: string, name: string, uri?: string): Promise<string> {
    return virsh(checkpointXmlArgs(domain, name), { uri });
}

export function checkpointXmlArgs(domain: string, name: string): string[] {
    return ["checkpoint-dumpxml", "--domain", domain, "--checkpointname", name];
}

/** libvirt's estimate of the bytes written to the VM's disks since checkpoint `name` (all disks together). */
export async function changedBytesSince(domain: string, name: string, uri?: string): Promise<number> {
    const xml = await virsh(["checkpoint-dumpxml", "--domain", domain, "--checkpointname", name, "--no-domain", "--size"], { uri });
    let total = 0;
    for (const size of parseCheckpointSizes(xml).values())
        total += size;
    return total;
}

/**
 * Deletes one of our checkpoints. libvirt merges its bitmap into the parent's, so the parent keeps
 * counting every change since itself. `metadataOnly` is for checkpoints whose bitmaps are gone.
 */
export async function deleteCheckpoint(domain: string, name: string, opts: { uri?: string; metadataOnly?: boolean } = {}): Promise<void> {
    if (checkpointIndex(name) === undefined)
        throw new Error(`refusing to delete the foreign checkpoint ${name}`);
    const args = ["checkpoint-delete", "--domain", domain, "--checkpointname", name];
    if (opts.metadataOnly)
        args.push("--metadata");
    await virsh(args, { uri: opts.uri });
}

/** Deletes our checkpoints newest first (children before parents), leaving foreign ones. */
export async function deleteOurCheckpoints(domain: string, names: string[], opts: { uri?: string; metadataOnly?: boolean } = {}): Promise<void> {
    const ours = names.filter(n => checkpointIndex(n) !== undefined)
            .sort((a, b) => checkpointIndex(b)! - checkpointIndex(a)!);
    for (const name of ours)
        await deleteCheckpoint(domain, name, opts);
}

/**
 * Re-creates checkpoints libvirt forgot (VM re-defined, host moved) from `checkpoints/<name>.xml`.
 * `present` is what libvirt has; the redefined ones are added to it. `refusal` may veto one (why not).
 */
export async function redefineMissing(domain: string, chain: string[], checkpointDir: string, present: Set<string>, uri?: string,
                                      refusal: (saved: CheckpointIdentity) => string | undefined = () => undefined): Promise<string[]> {
    const redefined: string[] = [];
    for (const name of chain) {
        if (present.has(name))
            continue;
        const file = path.join(checkpointDir, `${name}.xml`);
        if (!fs.existsSync(file))
            throw new Error(`checkpoint ${name} is missing in libvirt and its saved definition ${file} does not exist`);
        const refused = refusal(parseCheckpointIdentity(fs.readFileSync(file, "utf8")));
        if (refused)
            throw new Error(refused);
        await virsh(["checkpoint-create", "--domain", domain, "--xmlfile", file, "--redefine"], { uri });
        present.add(name);
        redefined.push(name);
    }
    return redefined;
}
