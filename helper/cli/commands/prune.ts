// SPDX-License-Identifier: GPL-3.0-or-later
// `helper prune --domain NAME [--keep N] [--keep-points N] [--yes]`: keep the last N chains of the VM's backup
// folder, then the last N restore points of each chain (older ones merged into a full: consolidation); each N
// as stored in the VM's settings unless given. Without --yes it removes nothing and says what it would
// remove and the space that frees; with --yes it removes that, holding the VM's job lock. A signal stops a
// merge under way (undone by its journal); with --progress (the page's way) so does the end of stdin, and the
// merges' progress comes as JSON lines before the answer (merge-run.ts).
import type { Command } from "commander";
import { oneChain, pruneChains, removeChains, type PruneAnswer } from "../../jobs/prune.ts";
import { parseChainName } from "./args.ts";
import { recordPrune } from "../../jobs/prune-history.ts";
import { parseKeepChains, parseKeepPoints, pointPolicyOf, readSettings } from "../../jobs/settings.ts";
import type { ChainPolicyAnswer } from "../../jobs/consolidate.ts";
import { applyRetention } from "../../jobs/retention.ts";
import { hasPointPolicy } from "../../jobs/point-retention.ts";
import { answer, findVm, parseDomainName, type NamedVm } from "./domain-arg.ts";
import { logJobLine } from "../../jobs/job-log.ts";
import { runAsUnit } from "../../jobs/unit-rerun.ts";
import { withPreviewRefusal } from "../../jobs/chain-users.ts";
import { startMergeRun } from "../merge-run.ts";

/** One line per chain the points policy changes (or would). */
export function describePolicy(result: ChainPolicyAnswer): string {
    const where = result.chain || "the chain in the folder itself";
    const parts = [
        result.dropped.length ? `${where}: ${result.dryRun ? "would merge away" : "merged away"} points ${result.dropped.join(", ")}, ` +
            `${result.dryRun ? "freeing about" : "freed"} ${(result.freed / 1048576).toFixed(1)} MiB${result.dryRun ? " (dry run: nothing changed; --yes does it)" : ""}` : "",
        result.waiting.length ? `${where}: ${result.waiting.join(", ")} stay until a newer point exists (the newest point's file is never replaced)` : "",
        ...result.skipped.map(s => `${where}: not merged: ${s}`),
    ];
    return parts.filter(Boolean).join("\n");
}

/** One line per chain for a person reading the command's stderr. */
export function describe(result: PruneAnswer): string {
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
        .option("--keep-points <n>", "then keep the last N restore points of each chain, merging older ones into a full (default: as in the VM's settings)")
        .option("--keep-daily <n>", "and the newest point of each of the last N days of each chain (default: as in the settings)")
        .option("--keep-weekly <n>", "and the newest point of each of the last N ISO weeks (default: as in the settings)")
        .option("--keep-monthly <n>", "and the newest point of each of the last N months (default: as in the settings)")
        .option("--skip-in-use", "leave the chains and points something reads alone, as the schedule does, and name them (default: refuse the whole run)", false)
        .option("--yes", "remove them (without: only say what would be removed)", false)
        .option("--progress", "with --yes: the merges' progress as JSON lines before the answer, and the end of stdin cancels (the page's way)", false)
        .allowExcessArguments(false)
        .action(async (opts: { domain: string; keep?: string; keepPoints?: string; keepDaily?: string; keepWeekly?: string; keepMonthly?: string; skipInUse: boolean; yes: boolean; progress: boolean }) => {
            const vm = await findVm(opts.domain);
            await removalAsUnit(vm, opts.yes);
            const settings = readSettings(vm.uuid, vm.name);
            const keep = opts.keep !== undefined ? parseKeepChains(opts.keep, "--keep") : settings.keepChains;
            // Given rules replace the stored ones of the points policy as a whole; --keep alone (the page's "Prune
            // now") is about chains only; no option at all applies the stored policy, as the schedule does.
            const given = [opts.keepPoints, opts.keepDaily, opts.keepWeekly, opts.keepMonthly].some(v => v !== undefined);
            const rule = (v: string | undefined, flag: string) => v === undefined ? null : parseKeepPoints(v, flag);
            const policy = given
                ? { last: rule(opts.keepPoints, "--keep-points"), daily: rule(opts.keepDaily, "--keep-daily"),
                    weekly: rule(opts.keepWeekly, "--keep-weekly"), monthly: rule(opts.keepMonthly, "--keep-monthly") }
                : opts.keep === undefined ? pointPolicyOf(settings) : {};
            if (keep === null && !hasPointPolicy(policy))
                throw new Error(`${vm.name} keeps all chains and points (no retention in its settings): give --keep N or --keep-points/--keep-daily/--keep-weekly/--keep-monthly N`);
            const run = opts.yes ? startMergeRun({ progress: opts.progress }) : undefined;
            const target = { uuid: vm.uuid, domain: vm.name, dryRun: !opts.yes, inUse: opts.skipInUse ? "skip" as const : "refuse" as const,
                             signal: run?.signal, onProgress: run?.onProgress };
            const record = (n: number) => recordPrune(vm.uuid, "manual", () => pruneChains(settings.folder, n, target));
            let retention: Awaited<ReturnType<typeof applyRetention>>;
            try {
                retention = await withPreviewRefusal(!opts.yes, () =>
                    applyRetention(settings.folder, { keepChains: keep, points: policy }, target, opts.yes ? record : undefined));
            } catch (err) {
                throw run?.failure(err, "the merge under way was undone, what was done before it stays (run it again to go on)") ?? err;
            } finally {
                run?.end();
            }
            const { chains: result, points } = retention;
            if (result) {
                process.stderr.write(describe(result) + "\n");
                await logRemoval(vm, result);
            }
            // A dry run of both says what the points rule does to the chains as they are now.
            if (points) {
                const text = points.length ? points.map(describePolicy).join("\n") : "the points policy drops no restore point";
                process.stderr.write(text + "\n");
                if (opts.yes && points.length)
                    await logJobLine(vm, "info", text.split("\n").join("; "));
            }
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
            await removalAsUnit(vm, opts.yes);
            const settings = readSettings(vm.uuid, vm.name);
            const remove = () => removeChains(settings.folder, oneChain(opts.chain), 0, { uuid: vm.uuid, domain: vm.name, dryRun: !opts.yes });
            const result = opts.yes ? await recordPrune(vm.uuid, "manual", remove) : await withPreviewRefusal(true, remove);
            process.stderr.write(describe(result) + "\n");
            await logRemoval(vm, result);
            answer(result);
        });
}
