// SPDX-License-Identifier: GPL-3.0-or-later
// Domain queries: the host's VMs with their disks and sizes, one domain's configuration, its state.
import { parseDomainXml, type DomainConfig } from "./domain-xml.ts";
import type { DiskSummary, DomainState, DomainSummary } from "../protocol/vm-types.ts";
import { LibvirtError, virsh, virshBatch } from "./virsh.ts";

const DOMAIN_STATES: readonly DomainState[] = [
    "no state", "running", "idle", "paused", "in shutdown", "shut off", "crashed", "pmsuspended",
];

/**
 * Every domain of the connection, active and inactive, sorted by name.
 *
 * Speed: all definitions, states and disk sizes come from one virsh process (one batch of commands on one
 * connection), so a host with 20 VMs costs three short virsh runs instead of ~60. Whatever the batch could
 * not answer (a domain gone meanwhile, an image that cannot be measured) is asked again one by one.
 */
export async function listDomains(uri?: string): Promise<DomainSummary[]> {
    const opts = { uri, readonly: true };
    const [all, persistent] = await Promise.all([
        virsh(["list", "--all", "--uuid"], opts),
        virsh(["list", "--all", "--persistent", "--uuid"], opts),
    ]);
    const persistentUuids = new Set(lines(persistent));
    const uuids = lines(all);
    const batch = await virshBatch(uuids.flatMap(u => [
        ["dumpxml", "--domain", u],
        ["domstate", "--domain", u],
        ["domblkinfo", "--all", "--domain", u],
    ]), opts);
    const found: { config: DomainConfig; state: DomainState; sizes: Map<string, BlockSize> | null }[] = [];
    for (const [i, uuid] of uuids.entries()) {
        const [xml, state, blkinfo] = batch.outputs.slice(3 * i, 3 * i + 3) as [string, string, string];
        if (xml === "" || state === "") {
            // Gone since `list`, or a failure to report: the one-by-one path tells which.
            const one = await summarizeUnlessGone(uuid, uri);
            if (one)
                found.push(one);
            continue;
        }
        const config = parseDomainXml(xml);
        // domblkinfo --all fails as a whole when any image is missing: then each disk is asked alone.
        found.push({ config, state: parseDomainState(state), sizes: blkinfo === "" && config.disks.length > 0 ? null : parseBlkinfoTable(blkinfo) });
    }
    await fillSizesDiskByDisk(found, uri);
    return found
        .map(({ config, state, sizes }) => summary(config, state, persistentUuids.has(config.uuid), sizes ?? new Map()))
        .sort((a, b) => a.name.localeCompare(b.name));
}

/** The domain's current definition (live XML when it runs); LibvirtError 'no-domain' when there is none. */
export async function getDomain(name: string, uri?: string): Promise<DomainConfig> {
    return parseDomainXml(await virsh(["dumpxml", "--domain", name], { uri, readonly: true }));
}

/** The domain's state as virsh names it. */
export async function domainState(name: string, uri?: string): Promise<DomainState> {
    return parseDomainState(await virsh(["domstate", "--domain", name], { uri, readonly: true }));
}

/** Maps `virsh domstate` output to a DomainState ("no state" for anything unknown). */
export function parseDomainState(output: string): DomainState {
    const s = output.trim();
    return (DOMAIN_STATES as readonly string[]).includes(s) ? s as DomainState : "no state";
}

function summary(config: DomainConfig, state: DomainState, persistent: boolean, sizes: Map<string, BlockSize>): DomainSummary {
    const disks: DiskSummary[] = config.disks.map(d => ({
        target: d.target,
        device: d.device,
        format: d.driverType,
        path: d.path,
        capacity: sizes.get(d.target)?.capacity ?? null,
        allocation: sizes.get(d.target)?.allocation ?? null,
    }));
    return { name: config.name, uuid: config.uuid, state, persistent, disks };
}

interface BlockSize { capacity: number | null; allocation: number | null }

/** One domain asked alone; null when it no longer exists (a transient domain that stopped since `list`). */
async function summarizeUnlessGone(uuid: string, uri?: string) {
    try {
        const [config, state] = await Promise.all([getDomain(uuid, uri), domainState(uuid, uri)]);
        return { config, state, sizes: null };
    } catch (e) {
        if (e instanceof LibvirtError && e.code === "no-domain")
            return null;
        throw e;
    }
}

/** Sizes for the domains whose table is missing, one disk per command (all in one batch); unmeasurable disks stay unknown. */
async function fillSizesDiskByDisk(found: { config: DomainConfig; sizes: Map<string, BlockSize> | null }[], uri?: string): Promise<void> {
    const asks: { sizes: Map<string, BlockSize>; target: string; args: string[] }[] = [];
    for (const f of found) {
        if (f.sizes !== null)
            continue;
        f.sizes = new Map();
        for (const d of f.config.disks) {
            if (d.path !== null)
                asks.push({ sizes: f.sizes, target: d.target, args: ["domblkinfo", "--domain", f.config.uuid, "--device", d.target] });
        }
    }
    const batch = await virshBatch(asks.map(a => a.args), { uri, readonly: true });
    for (const [i, a] of asks.entries()) {
        if (batch.outputs[i] !== "")
            a.sizes.set(a.target, parseBlkinfo(batch.outputs[i]!));
    }
}

/**
 * Parses `virsh domblkinfo DOM --all`: "TARGET CAPACITY ALLOCATION PHYSICAL" rows, "-" for unknown, after a
 * header line and a line of dashes (absent with -q).
 */
export function parseBlkinfoTable(output: string): Map<string, BlockSize> {
    const sizes = new Map<string, BlockSize>();
    for (const line of lines(output)) {
        const [target, capacity, allocation] = line.split(/\s+/);
        if (target === "Target" && capacity === "Capacity")
            continue;
        if (target && capacity !== undefined && allocation !== undefined)
            sizes.set(target, { capacity: byteCount(capacity), allocation: byteCount(allocation) });
    }
    return sizes;
}

/** Parses `virsh domblkinfo DOM TARGET`: "Capacity: N" / "Allocation: N" lines in bytes. */
export function parseBlkinfo(output: string): BlockSize {
    const field = (label: string) => byteCount(new RegExp(`^${label}:\\s*(\\S+)`, "m").exec(output)?.[1] ?? "-");
    return { capacity: field("Capacity"), allocation: field("Allocation") };
}

function byteCount(s: string): number | null {
    return /^\d+$/.test(s) ? Number(s) : null;
}

function lines(output: string): string[] {
    return output.split("\n").map(l => l.trim()).filter(l => l !== "");
}
