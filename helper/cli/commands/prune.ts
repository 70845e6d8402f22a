// `helper prune --domain NAME [--keep N] [--yes]`: keep the last N chains of the VM's backup folder (N: the
// stored "keep the last N chains" unless given). Without --yes it removes nothing and says what it would
// remove and the space that frees; with --yes it removes that, holding the VM's job lock.
import type { Command } from "commander";
import { oneChain, pruneChains, removeChains, type PruneAnswer } from "../../jobs/prune.ts";
import { parseChainName } from "./args.ts";
import { recordPrune } from "../../jobs/prune-history.ts";
import { parseKeepChains, readSettings } from "../../jobs/settings.ts";
import { answer, findVm, parseDomainName, type NamedVm } from "./domain-arg.ts";
import { logJobLine } from "../../jobs/job-log.ts";
import { runAsUnit } from "../../jobs/unit-rerun.ts";

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

/** A removal (not a dry run) runs as its own systemd unit where systemd runs: this process then ends with its status. */
async function removalAsUnit(vm: NamedVm, remove: boolean): Promise<void> {
    const inUnit = remove ? await runAsUnit({ uuid: vm.uuid, domain: vm.name }, "prune") : undefined;
    if (inUnit !== undefined)
        process.exit(inUnit);
}

/** What a removal took away, for the host's log (a dry run removes nothing: not logged). */
async function logRemoval(vm: NamedVm, result: PruneAnswer): Promise<void> {
    if (!result.dryRun)
        await logJobLine(vm, "info", describe(result).split("\n").join("; "));
}

export function addPruneCommand(program: Command): void {
    program
        .command("prune")
        .description("keep the last N chains of a VM's backup folder; a dry run unless --yes")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .option("--keep <n>", "keep the last N chains (default: as in the VM's settings)")
        .option("--yes", "remove them (without: only say what would be removed)", false)
        .allowExcessArguments(false)
        .action(async (opts: { domain: string; keep?: string; yes: boolean }) => {
            const vm = await findVm(opts.domain);
            await removalAsUnit(vm, opts.yes);
            const settings = readSettings(vm.uuid, vm.name);
            const keep = opts.keep !== undefined ? parseKeepChains(opts.keep, "--keep") : settings.keepChains;
            if (keep === null)
                throw new Error(`${vm.name} keeps all chains (no "keep the last N chains" in its settings): give --keep N`);
            const prune = () => pruneChains(settings.folder, keep, { uuid: vm.uuid, domain: vm.name, dryRun: !opts.yes });
            const result = opts.yes ? await recordPrune(vm.uuid, "manual", prune) : await prune();
            process.stderr.write(describe(result) + "\n");
            await logRemoval(vm, result);
            answer(result);
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
            await removalAsUnit(vm, opts.yes);
            const settings = readSettings(vm.uuid, vm.name);
            const remove = () => removeChains(settings.folder, oneChain(opts.chain), 0, { uuid: vm.uuid, domain: vm.name, dryRun: !opts.yes });
            const result = opts.yes ? await recordPrune(vm.uuid, "manual", remove) : await remove();
            process.stderr.write(describe(result) + "\n");
            await logRemoval(vm, result);
            answer(result);
        });
}
