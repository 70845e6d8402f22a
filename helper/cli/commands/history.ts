// SPDX-License-Identifier: GPL-3.0-or-later
// `helper job-history --domain NAME`: the VM's job history (newest first); `helper job-log --domain NAME --id ID`:
// one run's log; `helper get-host-settings` / `set-host-settings --max-backup-jobs N`: the host-wide job queue.
import { InvalidArgumentError, type Command } from "commander";
import { readHistory, readRunLog } from "../../jobs/history.ts";
import { isRunId } from "../../jobs/history-record.ts";
import { parseMaxBackupJobs, readHostSettings, writeHostSettings } from "../../jobs/host-settings.ts";
import type { HistoryAnswer, JobLogAnswer } from "../../protocol/job-types.ts";
import { answer, findVm, parseDomainName } from "./domain-arg.ts";

/** --id: a run id as the history lists it. */
export function parseRunId(value: string): string {
    if (!isRunId(value))
        throw new InvalidArgumentError("not a run id (as job-history lists them)");
    return value;
}

/** --limit: how many records, 1 to 1000. */
export function parseLimit(value: string): number {
    if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > 1000)
        throw new InvalidArgumentError("expected a number from 1 to 1000");
    return Number(value);
}

/** --max-backup-jobs: checked as the stored setting is. */
function parseMaxJobs(value: string): number {
    try {
        return parseMaxBackupJobs(value, "--max-backup-jobs");
    } catch (err) {
        throw new InvalidArgumentError((err as Error).message.replace(/^--max-backup-jobs: /, ""));
    }
}

export function addHistoryCommands(program: Command): void {
    program
        .command("job-history")
        .description("the VM's jobs (backups, restores, verifies, prunings), newest first, as JSON")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .option("--limit <n>", "at most this many records", parseLimit)
        .allowExcessArguments(false)
        .action(async (opts: { domain: string; limit?: number }) => {
            const vm = await findVm(opts.domain);
            const result: HistoryAnswer = { records: readHistory(vm.uuid, undefined, opts.limit) };
            answer(result);
        });
    program
        .command("job-log")
        .description("the log of one run of the VM's history")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .requiredOption("--id <id>", "the run (as job-history lists it)", parseRunId)
        .allowExcessArguments(false)
        .action(async (opts: { domain: string; id: string }) => {
            const vm = await findVm(opts.domain);
            const result: JobLogAnswer = { id: opts.id, text: readRunLog(vm.uuid, opts.id) };
            answer(result);
        });
    program
        .command("get-host-settings")
        .description("the host-wide settings (backup jobs at once) as JSON")
        .allowExcessArguments(false)
        .action(() => answer(readHostSettings()));
    program
        .command("set-host-settings")
        .description("store the host-wide settings")
        .requiredOption("--max-backup-jobs <n>", "at most N backup jobs run at once; more wait their turn (1 to 64)", parseMaxJobs)
        .allowExcessArguments(false)
        .action((opts: { maxBackupJobs: number }) => {
            writeHostSettings({ maxBackupJobs: opts.maxBackupJobs });
            answer(readHostSettings());
        });
}
