// A pruning that removes something, as a run of the VM's history: what it removed and the bytes freed.
import type { PruneAnswer } from "./prune.ts";
import { recordedRun } from "./recorded-run.ts";

const chainName = (name: string) => name === "" ? "(folder itself)" : name;

export function recordPrune(uuid: string, kind: "manual" | "scheduled", prune: () => Promise<PruneAnswer>): Promise<PruneAnswer> {
    return recordedRun(uuid, { type: "prune", kind }, async log => {
        const result = await prune();
        for (const c of result.removed)
            log.line(`removed ${chainName(c.name)}: ${c.files.length} file(s), ${c.bytes} bytes`);
        log.line(`kept: ${result.kept.map(chainName).join(", ") || "nothing"}`);
        return result;
    }, result => ({ result: "ok", bytes: result.freed, point: result.removed.map(c => chainName(c.name)).join(", ") }));
}
