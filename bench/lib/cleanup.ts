// SPDX-License-Identifier: GPL-3.0-or-later
// Everything the benchmark sets up is registered here and undone in reverse order: at the end, on a
// failure, and on SIGINT/SIGTERM (then the running tools are stopped first).
import { stopRunningChildren } from "./measure.ts";

type Action = { label: string; fn: () => Promise<void> | void };

const actions: Action[] = [];
let running: Promise<void> | null = null;

/** Registers an undo step; the returned function drops it again (when it was undone in the flow). */
export function onCleanup(label: string, fn: () => Promise<void> | void): () => void {
    const action = { label, fn };
    actions.push(action);
    return () => {
        const i = actions.indexOf(action);
        if (i >= 0)
            actions.splice(i, 1);
    };
}

/** Runs every registered step, newest first; a failing step is reported and the others still run. */
export function cleanupAll(): Promise<void> {
    running ??= (async () => {
        while (actions.length > 0) {
            const action = actions.pop()!;
            try {
                await action.fn();
            } catch (e) {
                process.stderr.write(`cleanup (${action.label}) failed: ${(e as Error).message}\n`);
            }
        }
    })();
    return running;
}

/** On SIGINT/SIGTERM: stop the tools, clean up, exit 130/143. A second signal exits at once. */
export function cleanupOnSignals(): void {
    let signalled = false;
    const handler = (sig: NodeJS.Signals) => {
        if (signalled)
            process.exit(1);
        signalled = true;
        process.stderr.write(`\n${sig}: stopping and cleaning up...\n`);
        stopRunningChildren();
        // Give the tools a moment to end their own libvirt jobs before the VM goes away.
        setTimeout(() => {
            void cleanupAll().finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
        }, 1000);
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
}
