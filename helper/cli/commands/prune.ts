// `helper prune --domain NAME [--keep N] [--keep-points N] [--yes]`: keep the last N chains of the VM's backup
// folder, then the last N restore points of each chain (older ones merged into a full: consolidation); each N
// as stored in the VM's settings unless given. Without --yes it removes nothing and says what it would
// remove and the space that frees; with --yes it removes that, holding the VM's job lock.
import type { Command } from "commander";
import { oneChain, pruneChains, removeChains, type PruneAnswer } from "../../jobs/prune.ts";
import { parseChainName } from "./args.ts";
import { parseKeepChains, parseKeepPoints, readSettings } from "../../jobs/settings.ts";
import { keepPointsInChains } from "../../jobs/consolidate.ts";
import { describeMerge } from "./consolidate.ts";
import { answer, findVm, parseDomainName } from "./domain-arg.ts";

/** One line per chain for a person reading the command's stderr. */
function describe(result: PruneAnswer): string {
    const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
    const name = (c: string) => c === "" ? "the chain in the folder itself" : c;
    if (result.removed.length === 0)
        return `nothing to remove: ${result.kept.length} chain(s) in ${result.folder}${result.keep ? `, keeping the last ${result.keep}` : ""}`;
    const verb = result.dryRun ? "would remove" : "removed";
    return [
        ...result.removed.map(c => `${verb} ${name(c.name)}: ${c.files.length} files, ${mib(c.bytes)}`),
        `${result.dryRun ? "would free" : "freed"} ${mib(result.freed)}; kept: ${result.kept.map(name).join(", ")}` +
            (result.dryRun ? " (dry run: nothing removed; --yes removes it)" : ""),
    ].join("\n");
}

export function addPruneCommand(program: Command): void {
    program
        .command("prune")
        .description("keep the last N chains of a VM's backup folder; a dry run unless --yes")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .option("--keep <n>", "keep the last N chains (default: as in the VM's settings)")
        .option("--keep-points <n>", "then keep the last N restore points of each chain, merging older ones into a full (default: as in the VM's settings)")
        .option("--yes", "remove them (without: only say what would be removed)", false)
        .allowExcessArguments(false)
        .action(async (opts: { domain: string; keep?: string; keepPoints?: string; yes: boolean }) => {
            const vm = await findVm(opts.domain);
            const settings = readSettings(vm.uuid, vm.name);
            const keep = opts.keep !== undefined ? parseKeepChains(opts.keep, "--keep") : settings.keepChains;
            const keepPoints = opts.keepPoints !== undefined ? parseKeepPoints(opts.keepPoints, "--keep-points") : settings.keepPoints ?? null;
            if (keep === null && keepPoints === null)
                throw new Error(`${vm.name} keeps all chains and points (no "keep the last N" in its settings): give --keep N or --keep-points N`);
            const target = { uuid: vm.uuid, domain: vm.name, dryRun: !opts.yes };
            const result = keep === null ? undefined : await pruneChains(settings.folder, keep, target);
            if (result)
                process.stderr.write(describe(result) + "\n");
            // A dry run of both says what the points rule does to the chains as they are now.
            const points = keepPoints === null ? undefined : await keepPointsInChains(settings.folder, keepPoints, target);
            if (points)
                process.stderr.write((points.length ? points.map(describeMerge).join("\n") : `no chain holds more than ${keepPoints} restore points`) + "\n");
            answer(points === undefined ? result : { ...(result ?? {}), points });
        });
    program
        .command("delete-chain")
        .description("remove one chain (not the newest) of a VM's backup folder; a dry run unless --yes")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .requiredOption("--chain <name>", "the chain (as list-restore-points names it; empty: the folder itself)", parseChainName)
        .option("--yes", "remove it (without: only say what would be removed)", false)
        .allowExcessArguments(false)
        .action(async (opts: { domain: string; chain: string; yes: boolean }) => {
            const vm = await findVm(opts.domain);
            const settings = readSettings(vm.uuid, vm.name);
            const result = await removeChains(settings.folder, oneChain(opts.chain), 0, { uuid: vm.uuid, domain: vm.name, dryRun: !opts.yes });
            process.stderr.write(describe(result) + "\n");
            answer(result);
        });
}
