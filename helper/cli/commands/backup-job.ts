// SPDX-License-Identifier: GPL-3.0-or-later
// Backup jobs for the page: `start-backup`, `job-status`, `cancel-job`, and the hidden `run-job` that
// start-backup starts detached (the runner that keeps the VM's state file).
import path from "node:path";
import { Option, type Command } from "commander";
import { cancelJob } from "../../jobs/cancel.ts";
import { openJobLog } from "../../jobs/job-log.ts";
import { runJob } from "../../jobs/runner.ts";
import { checkBackupRunnerArgs, failStartedJob } from "../../jobs/runner-args.ts";
import { readSettings, validateFolder } from "../../jobs/settings.ts";
import { pruneAfterSchedule } from "../../jobs/scheduled-prune.ts";
import { startBackupJob } from "../../jobs/start.ts";
import { recordRefusedJob, startedJob } from "../../jobs/job-history.ts";
import { currentJob } from "../../jobs/status.ts";
import type { JobLevel, NoJob, RequestedLevel } from "../../protocol/job-types.ts";
import { JOB_LEVELS, REQUESTED_LEVELS } from "../../protocol/levels.ts";
import { answer, findVm, parseDomainName } from "./domain-arg.ts";

/** The page's levels: new-chain is a full into a new chain folder of the VM's backup folder (jobs/chains.ts). */

/** helper.js itself, to start it again as the runner. */
export function helperPath(): string {
    const file = process.argv[1];
    if (!file || path.basename(file) !== "helper.js")
        throw new Error("jobs can only be started from the built helper.js");
    return path.resolve(file);
}

export function addBackupJobCommands(program: Command): void {
    program
        .command("start-backup")
        .description("start a backup of a VM into its backup folder; answers at once with the job's state file")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .addOption(new Option("--level <level>", "backup level (new-chain: a full backup that starts a new chain)").choices(JOB_LEVELS).makeOptionMandatory())
        .allowExcessArguments(false)
        .action(async (opts: { domain: string; level: JobLevel }) => {
            const vm = await findVm(opts.domain);
            const settings = readSettings(vm.uuid, vm.name);
            // Refused here already, not only by the runner: the folder rules and the trust rule.
            validateFolder(settings.folder);
            answer(startBackupJob({ domain: vm.name, uuid: vm.uuid, level: opts.level, settings, helperPath: helperPath() }));
        });
    program
        .command("job-status")
        .description("the VM's current or last backup job as JSON ({\"state\":\"none\"} when there was none)")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .allowExcessArguments(false)
        .action(async (opts: { domain: string }) => {
            const vm = await findVm(opts.domain);
            const none: NoJob = { state: "none" };
            answer(currentJob(vm.uuid) ?? none);
        });
    program
        .command("cancel-job")
        .description("cancel the VM's running backup")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .allowExcessArguments(false)
        .action(async (opts: { domain: string }) => {
            const vm = await findVm(opts.domain);
            answer(cancelJob(vm.uuid, vm.name));
        });
    program
        .command("run-job", { hidden: true })
        .requiredOption("--id <id>")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .requiredOption("--uuid <uuid>")
        .addOption(new Option("--level <level>").choices(REQUESTED_LEVELS).makeOptionMandatory())
        .requiredOption("--folder <dir>")
        .option("--compress", "", false)
        .option("--scheduled", "", false)
        .allowExcessArguments(false)
        .action(async (opts: { id: string; domain: string; uuid: string; level: RequestedLevel; folder: string; compress: boolean; scheduled: boolean }) => {
            const cliPath = path.join(path.dirname(helperPath()), "virtnbdbackup.js");
            let folder: string;
            try {
                ({ folder } = checkBackupRunnerArgs(opts, await findVm(opts.domain)));
            } catch (err) {
                const message = err instanceof Error ? err.message : String(err);
                recordRefusedJob(opts.uuid, startedJob(opts.uuid, opts.id), message);
                failStartedJob(opts.uuid, opts.id, message);
                throw err;
            }
            const { scheduled, ...job } = opts;
            const log = openJobLog({ domain: opts.domain, uuid: opts.uuid });
            const final = await runJob({ ...job, folder, cliPath }, log);
            if (scheduled && final.state === "succeeded") {
                const pruned = await pruneAfterSchedule(final);
                if (pruned.pruned?.chains.length)
                    log.write("info", `old chains removed: ${pruned.pruned.chains.map(c => c || "(the folder itself)").join(", ")}, ${pruned.pruned.freed} bytes freed`);
            }
            await log.close();
            process.exit(0);  // nothing else to wait for (signal handlers would not keep it alive anyway)
        });
}
