// SPDX-License-Identifier: GPL-3.0-or-later
// Restore jobs for the page: `check-restore` (every refusal of a request, per field, for the dialog),
// `start-restore` (checks again and starts the detached runner), and the hidden `run-restore-job`.
// The page names a restore point and a target folder; the backup folder is the VM's own, never a path
// from the page. Status and cancel are the backup's job-status and cancel-job (one job per VM).
import path from "node:path";
import type { Command } from "commander";
import { listRestorePoints } from "../../jobs/restore-points.ts";
import { runRestoreJob } from "../../jobs/restore-runner.ts";
import { openJobLog } from "../../jobs/job-log.ts";
import { checkRestoreRunnerArgs, failStartedJob } from "../../jobs/runner-args.ts";
import { checkRestoreRequest, RestoreRequestError, validateNewVmName, validateRestoreTarget } from "../../jobs/restore-target.ts";
import { readSettings } from "../../jobs/settings.ts";
import { startRestoreJob } from "../../jobs/start.ts";
import type { RestorePoint } from "../../protocol/job-types.ts";
import { helperPath } from "./backup-job.ts";
import { answer, findVm, parseDomainName } from "./domain-arg.ts";
import { chainFolder } from "../../jobs/chains.ts";
import { parseChainName, parsePointName } from "./args.ts";

interface RestoreOpts {
    domain: string;
    point: string;
    chain?: string;
    target: string;
    define?: boolean;
    name?: string;
}

/** The VM, its backup folder, and the named point when it is a complete restore point of that folder. */
export async function resolveRequest(opts: { domain: string; point: string; chain?: string }): Promise<{ vm: { name: string; uuid: string }; vmFolder: string; folder: string; point: RestorePoint | undefined }> {
    const vm = await findVm(opts.domain);
    const vmFolder = readSettings(vm.uuid, vm.name).folder;
    const folder = chainFolder(vmFolder, opts.chain);
    const list = await listRestorePoints(folder, vm.name, opts.chain ?? "");
    const point = list.points.find(p => p.name === opts.point && p.complete);
    return { vm, vmFolder, folder, point };
}

function addRequestOptions(command: Command): Command {
    return command
        .requiredOption("--domain <name>", "virtual machine whose backup is restored", parseDomainName)
        .requiredOption("--point <name>", "restore point (as list-restore-points names it)", parsePointName)
        .option("--chain <name>", "its chain (as list-restore-points names it; default: the folder itself)", parseChainName)
        .requiredOption("--target <dir>", "absolute folder for the restored disks: empty or not existing")
        .option("--define", "define a new virtual machine from the restored disks", false)
        .option("--name <name>", "name of the new virtual machine (default restore_<vm>)")
        .allowExcessArguments(false);
}

export function addRestoreJobCommands(program: Command): void {
    addRequestOptions(program
        .command("check-restore")
        .description("what the helper would refuse about a restore request, per field, as JSON ({} when nothing)"))
        .action(async (opts: RestoreOpts) => {
            const { vm, vmFolder, point } = await resolveRequest(opts);
            const name = opts.define ? opts.name ?? `restore_${vm.name}` : undefined;
            // The target may not be inside the VM's backup folder, whichever chain is restored.
            answer(await checkRestoreRequest({ target: opts.target, backupFolder: vmFolder, name, pointOk: point !== undefined }));
        });
    addRequestOptions(program
        .command("start-restore")
        .description("start restoring a restore point into a folder (optionally defining a new VM); answers at once with the job's state file"))
        .action(async (opts: RestoreOpts) => {
            const { vm, vmFolder, folder, point } = await resolveRequest(opts);
            if (!point)
                throw new RestoreRequestError("point", "unknown-point", `${opts.point} is not a complete restore point in ${folder}`);
            const target = validateRestoreTarget(opts.target, vmFolder);
            const name = opts.define ? await validateNewVmName(opts.name ?? `restore_${vm.name}`) : undefined;
            answer(startRestoreJob({
                domain: vm.name, uuid: vm.uuid, folder, point: point.name, target, define: opts.define === true,
                ...(name !== undefined ? { name } : {}), helperPath: helperPath(),
            }));
        });
    program
        .command("run-restore-job", { hidden: true })
        .requiredOption("--id <id>")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .requiredOption("--uuid <uuid>")
        .requiredOption("--folder <dir>")
        .requiredOption("--point <name>", "", parsePointName)
        .requiredOption("--target <dir>")
        .option("--define", "", false)
        .option("--name <name>")
        .allowExcessArguments(false)
        .action(async (opts: { id: string; domain: string; uuid: string; folder: string; point: string; target: string; define: boolean; name?: string }) => {
            let checked: { folder: string; target: string };
            try {
                checked = checkRestoreRunnerArgs(opts, await findVm(opts.domain));
            } catch (err) {
                failStartedJob(opts.uuid, opts.id, err instanceof Error ? err.message : String(err));
                throw err;
            }
            // The point's first data file stands for the point on every disk (-u), whatever its kind.
            const list = await listRestorePoints(checked.folder, opts.domain);
            const until = list.points.find(p => p.name === opts.point)?.disks[0]?.file ?? opts.point;
            const cliPath = path.join(path.dirname(helperPath()), "virtnbdrestore.js");
            const log = openJobLog({ domain: opts.domain, uuid: opts.uuid });
            await runRestoreJob({ ...opts, ...checked, until, cliPath }, log);
            await log.close();
            process.exit(0);
        });
}
