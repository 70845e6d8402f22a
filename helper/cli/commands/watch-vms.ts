// SPDX-License-Identifier: GPL-3.0-or-later
// `helper watch-vms [--uri URI]`: one JSON line per VM lifecycle event ({"domain":..,"event":"Started"}) and per
// change of a VM's job that the list shows ({"domain":..,"event":"JobChanged","state":"succeeded"}: started,
// queued, ended) for as long as it runs; the page lists the VMs again when one arrives. Ends (exit 0) on
// SIGTERM/SIGINT/SIGHUP, when its output cannot be written, or when its input is a pipe or socket that closes (Cockpit's bridge went away:
// a watch must not outlive its page); exit 1 when libvirt ends the watch.
import fs from "node:fs";
import type { Command } from "commander";
import { watchLifecycle } from "../../libvirt/events.ts";
import { watchJobs } from "../../jobs/job-watch.ts";
import { DEFAULT_URI } from "../../libvirt/virsh.ts";
import { parseUri } from "./args.ts";

/** Adds the watch-vms subcommand to the helper's program. */
export function addWatchVms(program: Command): void {
    program
        .command("watch-vms")
        .description("print a JSON line whenever a VM starts, stops, appears or goes away, or a job of a VM starts or ends")
        .option("-U, --uri <uri>", "libvirt connection URI", parseUri, DEFAULT_URI)
        .allowExcessArguments(false)
        .action(async (opts: { uri: string }) => {
            const controller = new AbortController();
            const stop = () => controller.abort();
            for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const)
                process.on(sig, stop);
            process.stdout.on("error", stop);  // the reader is gone (EPIPE)
            if (inputIsPipe()) {
                process.stdin.on("end", stop);
                process.stdin.resume();
            }
            const print = (e: object) => process.stdout.write(JSON.stringify(e) + "\n");
            watchJobs(print, controller.signal);
            try {
                await watchLifecycle(print, { uri: opts.uri, signal: controller.signal });
            } finally {
                controller.abort();  // the job watch too, when libvirt ended the watch
                process.stdin.pause();
            }
        });
}

function inputIsPipe(): boolean {
    try {
        const st = fs.fstatSync(0);
        return st.isFIFO() || st.isSocket();
    } catch {
        return false;
    }
}
