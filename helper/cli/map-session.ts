// SPDX-License-Identifier: GPL-3.0-or-later
// A mapping served until the user or the page ends it: SIGINT, SIGTERM, SIGHUP (the terminal or the
// Cockpit channel closed) or stdin closed (--until-stdin-closes, how the page's process is told). Shared by
// the virtnbdmap CLI and the helper's map-restore-point.
import type { Mapping } from "../map/map-point.ts";
import { onInterrupts } from "./cli-run.ts";

/** What the mapping serves, as one JSON object (the page and scripts read it). */
export function describeMapping(m: Mapping): object {
    return {
        event: "mapped", point: m.point, checkpoint: m.checkpoint, warnings: m.warnings,
        disks: m.disks.map(d => ({ dev: d.dev, uri: d.uri, socket: d.socket, size: d.size, diskFormat: d.diskFormat, files: d.files })),
    };
}

/** Resolves when the mapping should end; a second signal kills the servers and exits at once. */
export function waitForStop(m: Mapping, opts: { stdin?: boolean } = {}): Promise<string> {
    return new Promise(resolve => {
        const stop = onInterrupts(["SIGINT", "SIGTERM", "SIGHUP"], resolve, () => m.killNow());
        if (opts.stdin) {
            process.stdin.on("end", () => stop("stdin closed"));
            process.stdin.on("error", () => stop("stdin closed"));
            process.stdin.resume();
        }
    });
}
