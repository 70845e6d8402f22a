// SPDX-License-Identifier: GPL-3.0-or-later
// `helper check-folder --domain NAME --folder DIR`: what the settings dialog shows under the folder field
// while the user types: the helper's refusal (the same set-settings would give) or its warnings. Changes
// nothing.
import type { Command } from "commander";
import { folderFacts } from "../../jobs/folder-facts.ts";
import { folderWarnings } from "../../protocol/folder-rules.ts";
import type { CheckFolderAnswer } from "../../protocol/job-types.ts";
import { readSettings, SettingsError, validateChosenFolder, validateFolder } from "../../jobs/settings.ts";
import { resolveTrustedFolder } from "../../fs/trusted-folder.ts";
import { answer, findVm, parseDomainName } from "./domain-arg.ts";

export function addCheckFolderCommand(program: Command): void {
    program
        .command("check-folder")
        .description("what saving DIR as the VM's backup folder would say: a refusal or warnings (changes nothing)")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .requiredOption("--folder <dir>", "absolute backup folder")
        .allowExcessArguments(false)
        .action(async (opts: { domain: string; folder: string }) => {
            const vm = await findVm(opts.domain);
            let stored: string | undefined;
            try {
                stored = readSettings(vm.uuid, vm.name).folder;
            } catch {
                // unreadable settings: the folder counts as newly chosen
            }
            let folder: string;
            try {
                folder = opts.folder === stored ? validateFolder(opts.folder) : validateChosenFolder(opts.folder, vm.diskPaths);
            } catch (err) {
                if (!(err instanceof SettingsError))
                    throw err;
                answer({ folder: opts.folder, problem: err.message, warnings: [] } satisfies CheckFolderAnswer);
                return;
            }
            const real = resolveTrustedFolder(folder, "a backup folder").folder;
            answer({ folder, warnings: folderWarnings(real), facts: folderFacts(real, vm.diskPaths) } satisfies CheckFolderAnswer);
        });
}
