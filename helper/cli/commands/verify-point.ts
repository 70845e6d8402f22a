// SPDX-License-Identifier: GPL-3.0-or-later
// `helper verify-restore-point --domain NAME --point POINT`: checks the data files of one restore point's
// chain against their .chksum files, in this process. Prints a progress line per file, and within a big
// file every 64 MiB or 250 ms (bytes checked of the whole chain), and the result as the last line (JSON
// each). The point must be one of the VM's backup folder's restore points: the page
// names a point, never a path.
import type { Command } from "commander";
import { lockJob } from "../../backup/lock.ts";
import { chainFolder } from "../../jobs/chains.ts";
import { readSettings } from "../../jobs/settings.ts";
import { verifyPoint } from "../../jobs/verify-point.ts";
import { recordedRun } from "../../jobs/recorded-run.ts";
import { parseChainName, parsePointName } from "./args.ts";
import { answer, findVm, parseDomainName } from "./domain-arg.ts";
import { logJobLine } from "../../jobs/job-log.ts";
import { runAsUnit } from "../../jobs/unit-rerun.ts";

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
            const inUnit = await runAsUnit({ uuid: vm.uuid, domain: vm.name }, "verify");
            if (inUnit !== undefined)
                process.exit(inUnit);
            const folder = chainFolder(readSettings(vm.uuid, vm.name).folder, opts.chain);
            // The VM's job lock: no backup, restore or pruning changes the files while they are read.
            const lock = await lockJob(vm.uuid, vm.name);
            const point = opts.chain ? `${opts.chain}/${opts.point}` : opts.point;
            try {
                await recordedRun(vm.uuid, { type: "verify", kind: "manual", point }, async log => {
                    const result = await verifyPoint(folder, vm.name, opts.point, p => answer(p));
                    for (const f of result.files)
                        log.line(`${f.file}: ${f.status}${f.detail ? ` (${f.detail})` : ""}`);
                    for (const p of result.problems)
                        log.line(`problem: ${p}`);
                    answer({ event: "result", ...result });
                    await logJobLine(vm, result.ok ? "info" : "err", `verify of ${opts.point} in ${folder}: ` +
                        (result.ok ? `${result.files.length} file(s) ok` : result.problems[0] ?? `${result.files.filter(f => f.status === "mismatch" || f.status === "damaged").length} file(s) damaged`));
                    return result;
                }, result => ({
                    result: result.ok ? (result.files.some(f => f.status === "no-checksum") ? "warnings" : "ok") : "failed",
                    bytes: result.files.reduce((n, f) => n + f.size, 0),
                    ...(result.ok ? {} : { error: result.problems[0] ?? result.files.find(f => f.status === "mismatch" || f.status === "damaged")?.detail ?? "the point does not verify" }),
                    ...(result.files.some(f => f.status === "no-checksum") ? { warnings: ["some files have no checksum to compare with"] } : {}),
                }));
            } finally {
                lock.release();
            }
        });
}
