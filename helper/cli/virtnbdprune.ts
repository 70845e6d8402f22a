// SPDX-License-Identifier: GPL-3.0-or-later
// `virtnbdprune`: retention for a VM's backup folder (-o, as given to virtnbdbackup; chains in chain-N
// subfolders): keep the last N chains, and inside each chain left the restore points a keep-points/daily/
// weekly/monthly policy keeps, merging the others away (consolidation). A dry run unless --yes: it then
// says what it would remove and merge and the space that frees. With --yes it holds the VM's job lock (the
// VM is the one the folder's saved configs name), so it refuses while a backup, restore or verify of that
// VM runs, and it refuses chains and points a mapping, browse session or VM started from backup reads.
// A merge shows its progress on a TTY (with --json: progress events). SIGINT, SIGTERM, SIGHUP or a closed
// stdout stop it (cli-run.ts): the merge under way is undone by its journal, merges done before stay; a
// second signal exits at once (130), and the next run finishes or undoes what it left.
// Exit 0 when done (or planned), 1 on any refusal, failure or stop (one line on stderr).
import { Command, InvalidArgumentError } from "commander";
import { CliRun, printJson } from "./cli-run.ts";
import { mergeLabel, stoppedMessage } from "./prune-words.ts";
import { describe as describeChains, describePolicy } from "./commands/prune.ts";
import { withPreviewRefusal } from "../jobs/chain-users.ts";
import { folderVm } from "../jobs/folder-vm.ts";
import { hasPointPolicy, type PointPolicy } from "../jobs/point-retention.ts";
import { applyRetention, type RetentionAnswer } from "../jobs/retention.ts";
import { parseKeepChains, parseKeepPoints } from "../jobs/settings.ts";
import { VERSION } from "./version.ts";

/** A "keep N" value as commander takes it: checked by the same rules as the page's settings. */
function keepRule(parse: (value: string, where: string) => number | null, flag: string) {
    return (value: string) => {
        try {
            const n = parse(value, flag);
            if (n === null)
                throw new Error("give a whole number (leave the option out to keep all)");
            return n;
        } catch (err) {
            // commander names the option already.
            throw new InvalidArgumentError((err as Error).message.replace(`${flag}: `, ""));
        }
    };
}

const program = new Command("virtnbdprune")
    .description("Remove old chains and merge away old restore points of a VM's backup folder (a dry run unless --yes)")
    .requiredOption("-o, --output <dir>", "the VM's backup folder, as given to virtnbdbackup -o (its chains: the folder and chain-N subfolders)")
    .option("--keep-last <n>", "keep the last N chains (the newest chain is always kept)", keepRule(parseKeepChains, "--keep-last"))
    .option("--keep-points <n>", "in each chain, keep the last N restore points; older ones are merged into a full", keepRule(parseKeepPoints, "--keep-points"))
    .option("--keep-daily <n>", "and the newest point of each of the last N days", keepRule(parseKeepPoints, "--keep-daily"))
    .option("--keep-weekly <n>", "and the newest point of each of the last N ISO weeks", keepRule(parseKeepPoints, "--keep-weekly"))
    .option("--keep-monthly <n>", "and the newest point of each of the last N months", keepRule(parseKeepPoints, "--keep-monthly"))
    .option("-y, --yes", "do it (without: a dry run that only says what would be removed and merged)")
    .option("-v, --verbose", "also list every file that goes")
    .option("--json", "print progress and the result as JSON lines on stdout")
    .version(VERSION, "-V, --version")
    .addHelpText("after", `
A chain's newest restore point is never merged away, and the newest chain is never removed. Files of a chain
other than the ones a backup writes (a note of yours) stay. Nothing changes while a job of the VM runs or while
a mapping (virtnbdmap), a browse session or a VM started from backup reads the chain. Ctrl-C, SIGTERM or SIGHUP
stop a merge safely: the one under way is undone, the ones done before it stay (exit code 1); a second signal
exits at once (130), and the next run finishes or undoes what that left.
Example: virtnbdprune -o /backup/vm1 --keep-last 2 --keep-points 14        (a dry run; add --yes to act)`)
    .allowExcessArguments(false)
    // Usage errors: one line, like every other failure.
    .configureOutput({ outputError: (str, write) => write(`${str.trim().split("\n")[0]} (see --help)\n`) });

interface Flags {
    output: string;
    keepLast?: number;
    keepPoints?: number;
    keepDaily?: number;
    keepWeekly?: number;
    keepMonthly?: number;
    yes?: boolean;
    verbose?: boolean;
    json?: boolean;
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/** What the run did (or would do), for a person. */
export function report(result: RetentionAnswer, dryRun: boolean, verbose: boolean): string {
    const lines: string[] = [];
    if (dryRun)
        lines.push("dry run: nothing is changed (--yes does it)");
    if (result.chains) {
        lines.push(describeChains(result.chains));
        for (const s of result.chains.skipped ?? [])
            lines.push(`not removed: ${s.reason}`);
        if (verbose)
            lines.push(...result.chains.removed.flatMap(c => c.files.map(f => `  ${c.name ? `${c.name}/` : ""}${f}`)));
    }
    if (result.points) {
        lines.push(result.points.length ? result.points.map(describePolicy).filter(Boolean).join("\n") : "the points policy drops no restore point");
        if (verbose)
            lines.push(...result.points.flatMap(p => p.removed.map(f => `  ${p.chain ? `${p.chain}/` : ""}${f}`)));
    }
    lines.push(`${dryRun ? "would free about" : "freed"} ${mib(result.freed)} in all`);
    return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
    program.parse();
    const flags = program.opts<Flags>();
    const points: PointPolicy = { last: flags.keepPoints, daily: flags.keepDaily, weekly: flags.keepWeekly, monthly: flags.keepMonthly };
    if (flags.keepLast === undefined && !hasPointPolicy(points))
        program.error("error: give what to keep: --keep-last N (chains) and/or --keep-points/--keep-daily/--keep-weekly/--keep-monthly N");
    const cli = new CliRun({ name: "virtnbdprune", json: flags.json === true, progress: true, hangup: true });
    try {
        const vm = await folderVm(flags.output);
        const dryRun = !flags.yes;
        const onProgress = (chain: string, point: string, done: number, total: number) => {
            const event = { event: "progress", chain, point, done, total };
            if (!cli.jsonEvent(event))
                cli.progress(mergeLabel(chain, point), done, total);
        };
        // A dry run that meets files in use says what --yes would do, as the page's previews do.
        const result = await withPreviewRefusal(dryRun, () => applyRetention(vm.folder, { keepChains: flags.keepLast ?? null, points },
                                                                              { uuid: vm.uuid, domain: vm.name, dryRun, signal: cli.signal, onProgress }));
        cli.endProgress();
        if (cli.json)
            printJson({ event: "result", folder: vm.folder, domain: vm.name, uuid: vm.uuid, dryRun, ...result });
        else
            process.stdout.write(report(result, dryRun, flags.verbose === true));
    } catch (err) {
        cli.fail(cli.signal.aborted ? new Error(stoppedMessage(err)) : err);
    }
}

void main();
