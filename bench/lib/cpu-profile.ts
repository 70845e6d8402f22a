// SPDX-License-Identifier: GPL-3.0-or-later
// Reading a `node --cpu-prof` profile: self time per function, for the experiment scripts.
import path from "node:path";

interface ProfileNode {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface Profile {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
    startTime: number;
    endTime: number;
}

/** Self time per function (name + file:line), in ms, largest first. */
export function selfTimes(profile: Profile): [string, number][] {
    const byId = new Map(profile.nodes.map(n => [n.id, n]));
    const totals = new Map<string, number>();
    profile.samples.forEach((id, i) => {
        const frame = byId.get(id)?.callFrame;
        const key = frame ? `${frame.functionName || "(anonymous)"} ${path.basename(frame.url)}:${frame.lineNumber + 1}` : "?";
        totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
    });
    return [...totals.entries()].sort((a, b) => b[1] - a[1]);
}
