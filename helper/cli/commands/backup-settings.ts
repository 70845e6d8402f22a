// `helper get-settings --domain NAME` and `helper set-settings --domain NAME --folder DIR [--compress]`:
// a VM's backup folder and compression, with the job state file the page watches.
import type { Command } from "commander";
import { ensureDir } from "../../jobs/atomic-file.ts";
import { JOBS_DIR, statusFile } from "../../jobs/paths.ts";
import { readSettings, writeSettings } from "../../jobs/settings.ts";
import type { SettingsAnswer } from "../../jobs/types.ts";
import { answer, findVm, parseDomainName, type NamedVm } from "./domain-arg.ts";

function settingsAnswer(vm: NamedVm): SettingsAnswer {
    // The page watches the state file from now on; its folder must exist for the watch to work.
    ensureDir(JOBS_DIR);
    return { domain: vm.name, uuid: vm.uuid, ...readSettings(vm.uuid, vm.name), statusFile: statusFile(vm.uuid) };
}

export function addSettingsCommands(program: Command): void {
    program
        .command("get-settings")
        .description("a VM's backup settings (folder, compression) as JSON")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .allowExcessArguments(false)
        .action(async (opts: { domain: string }) => {
            answer(settingsAnswer(await findVm(opts.domain)));
        });
    program
        .command("set-settings")
        .description("store a VM's backup settings")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .requiredOption("--folder <dir>", "absolute backup folder")
        .option("--compress", "compress backups with lz4", false)
        .allowExcessArguments(false)
        .action(async (opts: { domain: string; folder: string; compress: boolean }) => {
            const vm = await findVm(opts.domain);
            writeSettings(vm.uuid, { folder: opts.folder, compress: opts.compress });
            answer(settingsAnswer(vm));
        });
}
