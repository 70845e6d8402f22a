// `helper verify-restore-point --domain NAME --point POINT`: checks the data files of one restore point's
// chain against their .chksum files, in this process. Prints a progress line per file, and within a big
// file every 64 MiB or 250 ms (bytes checked of the whole chain), and the result as the last line (JSON
// each). The point must be one of the VM's backup folder's restore points: the page
// names a point, never a path.
import { InvalidArgumentError, type Command } from "commander";
import { readSettings } from "../../jobs/settings.ts";
import { verifyPoint } from "../../jobs/verify-point.ts";
import { answer, findVm, parseDomainName } from "./domain-arg.ts";

/** A restore point name as listed (virtnbdbackup.N, a diff's unix time, copy): no path, no option look-alike. */
export function parsePointName(value: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(value) || value.includes(".."))
        throw new InvalidArgumentError("not a restore point name");
    return value;
}

export function addVerifyPointCommand(program: Command): void {
    program
        .command("verify-restore-point")
        .description("verify the data files of a restore point's chain against their checksums; progress and result as JSON lines")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .requiredOption("--point <name>", "restore point (as list-restore-points names it)", parsePointName)
        .allowExcessArguments(false)
        .action(async (opts: { domain: string; point: string }) => {
            const vm = await findVm(opts.domain);
            const { folder } = readSettings(vm.uuid, vm.name);
            const result = await verifyPoint(folder, vm.name, opts.point, p => answer(p));
            answer({ event: "result", ...result });
        });
}
