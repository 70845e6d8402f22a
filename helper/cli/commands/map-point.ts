// SPDX-License-Identifier: GPL-3.0-or-later
// `helper map-restore-point --domain NAME --point POINT [--chain C] [--disk DEV]`: serves the disks of one
// restore point of the VM's backup folder read-only over NBD (helper/map/map-point.ts), prints one JSON
// line, {"event":"mapped","point":..,"checkpoint":..,"warnings":[..],"disks":[{"dev","uri","socket","size","diskFormat","files"}]},
// and keeps serving until SIGTERM/SIGINT/SIGHUP or its stdin closes (the page's channel going away);
// then it stops the servers, removes the sockets' folder and prints {"event":"stopped"}. The point must
// be a complete restore point of the VM's folder: the page names a point, never a path.
import type { Command } from "commander";
import { mapPoint } from "../../map/map-point.ts";
import { describeMapping, waitForStop } from "../map-session.ts";
import { parseChainName, parseDiskName, parsePointName } from "./args.ts";
import { answer, parseDomainName } from "./domain-arg.ts";
import { resolveRequest } from "./restore-job.ts";

export function addMapPointCommand(program: Command): void {
    program
        .command("map-restore-point")
        .description("serve a restore point's disks read-only over NBD until stopped; the sockets as one JSON line")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .requiredOption("--point <name>", "restore point (as list-restore-points names it)", parsePointName)
        .option("--chain <name>", "its chain (as list-restore-points names it; default: the folder itself)", parseChainName)
        .option("--disk <dev>", "only this disk", parseDiskName)
        .allowExcessArguments(false)
        .action(async (opts: { domain: string; point: string; chain?: string; disk?: string }) => {
            const { folder, point } = await resolveRequest(opts);
            if (!point)
                throw new Error(`${opts.point} is not a complete restore point of ${opts.domain}`);
            // A data file of the point stands for it on every disk (as the page's restore runs it).
            const mapping = await mapPoint({ folder, until: point.disks[0].file, disk: opts.disk });
            const stopped = waitForStop(mapping, { stdin: true });
            answer(describeMapping(mapping));
            await stopped;
            await mapping.stop();
            answer({ event: "stopped" });
        });
}
