// SPDX-License-Identifier: GPL-3.0-or-later
// What stops a CLI run before its end, shared by both CLIs: SIGINT/SIGTERM, and output that can no longer
// be written (`--json | head`: the reader is gone, EPIPE). Either cancels the run through one AbortSignal,
// so it cleans up as a cancel does (job ended, checkpoint deleted, unfinished files removed) and exits
// non-zero; a second signal exits at once. With a listener for the streams' 'error' events, a failed
// write (and any later one) no longer ends the process with an unhandled error and a stack trace.

/**
 * Starts watching; the returned signal aborts with the reason as an Error ("cancelled by SIGTERM",
 * "cancelled: cannot write to stdout (EPIPE)"). `beforeForcedExit` runs on a second signal, just
 * before exit code 130.
 */
export function watchInterrupts(beforeForcedExit?: () => void): AbortSignal {
    const controller = new AbortController();
    const cancel = (why: string) => {
        if (!controller.signal.aborted)
            controller.abort(new Error(why));
    };
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
        if (++signals > 1) {
            beforeForcedExit?.();
            process.exit(130);
        }
        cancel(`cancelled by ${sig}`);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    for (const [name, stream] of [["stdout", process.stdout], ["stderr", process.stderr]] as const) {
        stream.on("error", (err: NodeJS.ErrnoException) => {
            cancel(`cancelled: cannot write to ${name} (${err.code ?? err.message})`);
        });
    }
    return controller.signal;
}
