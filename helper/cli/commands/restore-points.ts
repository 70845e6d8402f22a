// SPDX-License-Identifier: GPL-3.0-or-later
// `helper list-restore-points --domain NAME`: the restore points in the VM's backup folder.
import type { Command } from "commander";
import { listVmRestorePoints } from "../../jobs/restore-points.ts";
import { readSettings } from "../../jobs/settings.ts";
import { answer, findVm, parseDomainName } from "./domain-arg.ts";

export function addRestorePointsCommand(program: Command): void {
    program
        .command("list-restore-points")
        .description("the restore points of every chain in a VM's backup folder as JSON, oldest first")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .allowExcessArguments(false)
        .action(async (opts: { domain: string }) => {
            const vm = await findVm(opts.domain);
            const { folder } = readSettings(vm.uuid, vm.name);
            answer(await listVmRestorePoints(folder, vm.name));
        });
}
