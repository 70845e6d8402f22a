// SPDX-License-Identifier: GPL-3.0-or-later
// `helper list-vms [--uri URI]`: every VM of the connection with its disks, as one JSON line.
import type { Command } from "commander";
import { listDomains } from "../../libvirt/domains.ts";
import type { ListVmsAnswer } from "../../protocol/vm-types.ts";
import { DEFAULT_URI } from "../../libvirt/virsh.ts";
import { parseLocalUri } from "./args.ts";
import { vmOverview } from "../../jobs/vm-overview.ts";

/** Adds the list-vms subcommand to the helper's program. */
export function addListVms(program: Command): void {
    program
        .command("list-vms")
        .description("list the libvirt VMs with their disks as JSON")
        .option("-U, --uri <uri>", "libvirt connection URI", parseLocalUri, DEFAULT_URI)
        .allowExcessArguments(false)
        .action(async (opts: { uri: string }) => {
            const vms = await listDomains(opts.uri);
            const now = new Date();
            const answer: ListVmsAnswer = { vms: vms.map(vm => ({ ...vm, backup: vmOverview(vm.uuid, vm.name, now) })) };
            process.stdout.write(JSON.stringify(answer) + "\n");
        });
}
