// Domain queries: the host's VMs with their disks and sizes, one domain's configuration, its state.
import { parseDomainXml, type DomainConfig } from "./domain-xml.ts";
import type { DiskSummary, DomainState, DomainSummary } from "./types.ts";
import { LibvirtError, virsh } from "./virsh.ts";

const DOMAIN_STATES: readonly DomainState[] = [
    "no state", "running", "idle", "paused", "in shutdown", "shut off", "crashed", "pmsuspended",
];

/** Several domains are queried at once, but not so many that a big host spawns hundreds of virsh. */
const PARALLEL = 4;

/** Every domain of the connection, active and inactive, sorted by name. */
export async function listDomains(uri?: string): Promise<DomainSummary[]> {
    const [all, persistent] = await Promise.all([
        virsh(["list", "--all", "--name"], { uri, readonly: true }),
        virsh(["list", "--all", "--persistent", "--name"], { uri, readonly: true }),
    ]);
    const persistentNames = new Set(names(persistent));
    const summaries = await mapLimited(names(all), PARALLEL, async name => {
        try {
            return await summarize(name, persistentNames.has(name), uri);
        } catch (e) {
            // A transient domain that stopped since `list`: it no longer exists, so it is not listed.
            if (e instanceof LibvirtError && e.code === "no-domain")
                return null;
            throw e;
        }
    });
    return summaries.filter((s): s is DomainSummary => s !== null).sort((a, b) => a.name.localeCompare(b.name));
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

async function summarize(name: string, persistent: boolean, uri?: string): Promise<DomainSummary> {
    const [config, state] = await Promise.all([getDomain(name, uri), domainState(name, uri)]);
    const sizes = await blockSizes(config, uri);
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

/** Capacity and allocation per disk target; a disk libvirt cannot measure is simply absent. */
async function blockSizes(config: DomainConfig, uri?: string): Promise<Map<string, BlockSize>> {
    if (config.disks.length === 0)
        return new Map();
    try {
        // One call for all disks; it fails as a whole when any image is missing.
        return parseBlkinfoTable(await virsh(["-q", "domblkinfo", "--domain", config.name, "--all"], { uri, readonly: true }));
    } catch (e) {
        if (e instanceof LibvirtError && (e.code === "unavailable" || e.code === "no-domain" || e.code === "timeout"))
            throw e;
    }
    const sizes = new Map<string, BlockSize>();
    for (const d of config.disks) {
        if (d.path === null)
            continue;
        try {
            const out = await virsh(["domblkinfo", "--domain", config.name, "--device", d.target], { uri, readonly: true });
            sizes.set(d.target, parseBlkinfo(out));
        } catch (e) {
            if (e instanceof LibvirtError && (e.code === "unavailable" || e.code === "no-domain" || e.code === "timeout"))
                throw e;
            // Missing or unreadable image: sizes stay unknown.
        }
    }
    return sizes;
}

/** Parses `virsh -q domblkinfo DOM --all`: "TARGET CAPACITY ALLOCATION PHYSICAL" rows, "-" for unknown. */
export function parseBlkinfoTable(output: string): Map<string, BlockSize> {
    const sizes = new Map<string, BlockSize>();
    for (const line of lines(output)) {
        const [target, capacity, allocation] = line.split(/\s+/);
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

/** `virsh list --name` prints one name per line; names are taken as they are (no trimming). */
function names(output: string): string[] {
    return output.split("\n").filter(l => l !== "");
}

function lines(output: string): string[] {
    return output.split("\n").map(l => l.trim()).filter(l => l !== "");
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await fn(items[i]!);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
}
