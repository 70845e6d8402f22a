// SPDX-License-Identifier: GPL-3.0-or-later
// `helper consolidate --domain NAME [--chain C] (--until virtnbdbackup.K | --keep-points N) [--yes]`: merges
// the oldest points of a chain into one full (a synthetic full, from the backup files alone). Without --yes
// it changes nothing and says which points would go and the space that frees. With --yes a signal, or with
// --progress (the page's way: progress lines first) the end of stdin, cancels: the chain stays as it was.
import { withPreviewRefusal } from "../../jobs/chain-users.ts";
import type { Command } from "commander";
import { consolidateJob, type ConsolidateJobAnswer, type PointSelection } from "../../jobs/consolidate.ts";
import { readSettings } from "../../jobs/settings.ts";
import { parseChainName, parseKeepPointsArg, parsePointName } from "./args.ts";
import { answer, findVm, parseDomainName } from "./domain-arg.ts";
import { runAsUnit } from "../../jobs/unit-rerun.ts";
import { startMergeRun } from "../merge-run.ts";

/** One line for a person reading the command's stderr. */
export function describeMerge(result: ConsolidateJobAnswer): string {
    const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
    if (!result.point)
        return `nothing to consolidate in ${result.folder}`;
    const verb = result.dryRun ? "would merge" : "merged";
    return `${result.chain ? `${result.chain}: ` : ""}${verb} the points before ${result.point} (from ${result.dropped[0]}) into ${result.written.join(", ")}; ` +
        `points ${result.dryRun ? "to drop" : "dropped"}: ${result.dropped.join(", ")}; ` +
        `${result.dryRun ? "would free about" : "freed"} ${mib(result.freed)}` +
        (result.dryRun ? " (dry run: nothing changed; --yes does it)" : "");
}

export function addConsolidateCommand(program: Command): void {
    program
        .command("consolidate")
        .description("merge the oldest points of a chain into one full backup; a dry run unless --yes")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .option("--chain <name>", "the chain (as list-restore-points names it; default: the newest)", parseChainName)
        .option("--until <point>", "merge every point up to this checkpoint (virtnbdbackup.N) into a full", parsePointName)
        .option("--from <point>", "with --until: merge the incrementals from this checkpoint to --until into one (drops the points in between)", parsePointName)
        .option("--keep-points <n>", "merge so that the chain's last N points remain", parseKeepPointsArg)
        .option("--yes", "do it (without: only say what would be merged and dropped)", false)
        .option("--progress", "with --yes: progress as JSON lines before the answer, and the end of stdin cancels (the page's way)", false)
        .allowExcessArguments(false)
        .action(async (opts: { domain: string; chain?: string; until?: string; from?: string; keepPoints?: number; yes: boolean; progress: boolean }) => {
            if ((opts.until === undefined) === (opts.keepPoints === undefined))
                throw new Error("give one of --until virtnbdbackup.N and --keep-points N");
            if (opts.from !== undefined && opts.until === undefined)
                throw new Error("--from needs --until");
            const vm = await findVm(opts.domain);
            // A merge runs as its own systemd unit where systemd runs (the page's input and output passed through).
            const inUnit = opts.yes ? await runAsUnit({ uuid: vm.uuid, domain: vm.name }, "prune") : undefined;
            if (inUnit !== undefined)
                process.exit(inUnit);
            const settings = readSettings(vm.uuid, vm.name);
            const select: PointSelection = opts.until !== undefined ? { until: opts.until, from: opts.from } : { keepLast: opts.keepPoints! };
            if (!opts.yes) {
                const preview = await withPreviewRefusal(true, () => consolidateJob(settings.folder, opts.chain, select, { uuid: vm.uuid, domain: vm.name, dryRun: true }));
                process.stderr.write(describeMerge(preview) + "\n");
                answer(preview);
                return;
            }
            const run = startMergeRun({ progress: opts.progress });
            let result: ConsolidateJobAnswer;
            try {
                result = await consolidateJob(settings.folder, opts.chain, select,
                                              { uuid: vm.uuid, domain: vm.name, dryRun: false, signal: run.signal, onProgress: run.onProgress });
            } catch (err) {
                throw run.failure(err, "the merge was undone, the chain is as it was");
            } finally {
                run.end();
            }
            process.stderr.write(describeMerge(result) + "\n");
            answer(result);
        });
}
