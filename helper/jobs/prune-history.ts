// SPDX-License-Identifier: GPL-3.0-or-later
// A pruning that removes something, as a run of the VM's history: what it removed and the bytes freed.
import type { PruneAnswer } from "./prune.ts";
import { recordedRun } from "./recorded-run.ts";
import { HISTORY_DIR } from "./history.ts";

const chainName = (name: string) => name === "" ? "(folder itself)" : name;

export function recordPrune(uuid: string, kind: "manual" | "scheduled", prune: () => Promise<PruneAnswer>,
                            opts: { startedAt?: number; dir?: string } = {}): Promise<PruneAnswer> {
    return recordedRun(uuid, { type: "prune", kind, ...(opts.startedAt !== undefined ? { startedAt: opts.startedAt } : {}) }, async log => {
        const result = await prune();
        for (const c of result.removed)
            log.line(`removed ${chainName(c.name)}: ${c.files.length} file(s), ${c.bytes} bytes`);
        log.line(`kept: ${result.kept.map(chainName).join(", ") || "nothing"}`);
        return result;
    }, result => ({ result: "ok", bytes: result.freed, point: result.removed.map(c => chainName(c.name)).join(", ") }), opts.dir ?? HISTORY_DIR);
}

/**
 * The pruning after each scheduled backup ("keep the last N chains"): recorded only when it removed
 * something or failed; one "nothing to remove" record after every backup would bury the history.
 */
export async function recordScheduledPrune(uuid: string, prune: () => Promise<PruneAnswer>, dir = HISTORY_DIR): Promise<PruneAnswer> {
    const startedAt = Date.now();
    let result: PruneAnswer;
    try {
        result = await prune();
    } catch (err) {
        return recordPrune(uuid, "scheduled", () => Promise.reject(err), { startedAt, dir });
    }
    return result.removed.length === 0 ? result : recordPrune(uuid, "scheduled", () => Promise.resolve(result), { startedAt, dir });
}
