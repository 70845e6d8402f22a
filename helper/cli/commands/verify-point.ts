// `helper verify-restore-point --domain NAME --point POINT`: checks the data files of one restore point's
// chain against their .chksum files, in this process. Prints a progress line per file, and within a big
// file every 64 MiB or 250 ms (bytes checked of the whole chain), and the result as the last line (JSON
// each). The point must be one of the VM's backup folder's restore points: the page
// names a point, never a path.
import { InvalidArgumentError, type Command } from "commander";
import { chainNumber } from "../../format/chain-folders.ts";
import { lockJob } from "../../backup/lock.ts";
import { chainByName } from "../../jobs/chains.ts";
import { readSettings } from "../../jobs/settings.ts";
import { verifyPoint } from "../../jobs/verify-point.ts";
import { answer, findVm, parseDomainName } from "./domain-arg.ts";

/** A restore point name as listed (virtnbdbackup.N, a diff's unix time, copy): no path, no option look-alike. */
export function parsePointName(value: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(value) || value.includes(".."))
        throw new InvalidArgumentError("not a restore point name");
    return value;
}

/** --chain: a chain subfolder's name as listed (chain-N); "" is the VM folder itself. */
export function parseChainName(value: string): string {
    if (value !== "" && chainNumber(value) === undefined)
        throw new InvalidArgumentError("not a chain name (chain-N, or empty for the backup folder itself)");
    return value;
}

/** The folder of a chain of the VM's backup folder; a clear error when it has no such chain. */
export function chainFolder(vmFolder: string, chain: string | undefined): string {
    const found = chainByName(vmFolder, chain);
    if (!found)
        throw new Error(`${vmFolder} holds no chain ${chain ? chain : "in the folder itself"}`);
    return found.folder;
}

export function addVerifyPointCommand(program: Command): void {
    program
        .command("verify-restore-point")
        .description("verify the data files of a restore point's chain against their checksums; progress and result as JSON lines")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .requiredOption("--point <name>", "restore point (as list-restore-points names it)", parsePointName)
        .option("--chain <name>", "its chain (as list-restore-points names it; default: the folder itself)", parseChainName)
        .allowExcessArguments(false)
        .action(async (opts: { domain: string; point: string; chain?: string }) => {
            const vm = await findVm(opts.domain);
            const folder = chainFolder(readSettings(vm.uuid, vm.name).folder, opts.chain);
            // The VM's job lock: no backup, restore or pruning changes the files while they are read.
            const lock = await lockJob(vm.uuid, vm.name);
            try {
                const result = await verifyPoint(folder, vm.name, opts.point, p => answer(p));
                answer({ event: "result", ...result });
            } finally {
                lock.release();
            }
        });
}
