// SPDX-License-Identifier: GPL-3.0-or-later
// A merge the helper runs for the page or a person (`helper consolidate --yes`, `helper prune --yes`): cancelled
// like the CLIs' runs (SIGINT/SIGTERM/SIGHUP, a closed stdout: cli-run.ts), the merge under way then undone by
// its journal. With --progress (the page's way, as verify and move-instant-vm stream theirs) progress comes as
// JSON lines on stdout before the answer, and the end of stdin cancels too: the page's Cancel closes the
// helper's input (as it ends a mapping, map-session.ts) and keeps reading, so it learns how the run ended.
import { CliRun, oneLine } from "./cli-run.ts";
import type { MergeProgress } from "../jobs/consolidate.ts";

/** What a progress line says: the merge's chain and point, its new file `index` of `count`, bytes done/total of it. */
export interface MergeProgressLine {
    event: "progress";
    chain: string;
    point: string;
    file: string;
    index: number;
    count: number;
    done: number;
    total: number;
}

export interface MergeRun {
    signal: AbortSignal;
    onProgress: MergeProgress;
    /** The error to report for `err`: when cancelled, one that says what stays. */
    failure(err: unknown, stays: string): Error;
    /** Stops reading stdin (the process may end). */
    end(): void;
}

/** Progress lines at most this often (plus each file's first and last). */
const PROGRESS_MS = 250;

export function startMergeRun(opts: { progress: boolean }): MergeRun {
    const cli = new CliRun({ name: "helper", json: opts.progress, progress: false, hangup: true, jsonProgressMs: PROGRESS_MS });
    const controller = new AbortController();
    const cancel = (reason: unknown) => {
        if (!controller.signal.aborted)
            controller.abort(reason);
    };
    cli.signal.addEventListener("abort", () => cancel(cli.signal.reason), { once: true });
    const onEnd = () => cancel(new Error("cancelled"));
    if (opts.progress) {
        process.stdin.on("end", onEnd);
        process.stdin.on("error", onEnd);
        process.stdin.resume();
    }
    let current = "";
    return {
        signal: controller.signal,
        onProgress: (chain, point, done, total, disk) => {
            const line: MergeProgressLine = { event: "progress", chain, point, file: disk.file, index: disk.index, count: disk.count, done, total };
            // Each new file is announced at once (a line at 0 is never held back), whatever came just before.
            const file = `${chain}/${point}/${disk.file}`;
            if (file !== current && done > 0)
                cli.jsonEvent({ ...line, done: 0 });
            current = file;
            cli.jsonEvent(line);
        },
        failure: (err, stays) => controller.signal.aborted ? new Error(`${oneLine(controller.signal.reason)}: ${stays}`) : err instanceof Error ? err : new Error(String(err)),
        end: () => {
            if (opts.progress) {
                process.stdin.off("end", onEnd);
                process.stdin.off("error", onEnd);
                process.stdin.destroy();
            }
        },
    };
}
