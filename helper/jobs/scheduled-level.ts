// SPDX-License-Identifier: GPL-3.0-or-later
// The level of a scheduled backup: automatic (the newest chain goes on), or a new chain when the VM's
// policy says the newest one is full (every N backups) or old enough (every week or month).
import { listRestorePoints } from "./restore-points.ts";
import { listChains } from "./chains.ts";
import { startsNewChain } from "../protocol/retention-rules.ts";
import type { JobLevel, VmSettings } from "../protocol/job-types.ts";

export async function scheduledLevel(settings: VmSettings, vmName: string, now: Date): Promise<JobLevel> {
    if (settings.newChain === "never")
        return "auto";
    const newest = listChains(settings.folder).at(-1);
    if (!newest)
        return "auto";
    const points = (await listRestorePoints(newest.folder, vmName, newest.name)).points;
    const first = points[0] ? new Date(points[0].date) : undefined;
    if (!first || Number.isNaN(first.getTime()))
        return "auto";
    return startsNewChain(settings.newChain, { points: points.length, firstDate: first }, now) ? "new-chain" : "auto";
}
