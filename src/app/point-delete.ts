// SPDX-License-Identifier: GPL-3.0-or-later
// Which restore points the tab offers to delete, and how: deleting a point merges it into the next one
// (helper consolidate): the chain's first point with a full of the next point, a later incremental into the
// next incremental. Never the chain's newest point nor the one before it (the newest point's file is never
// replaced), never a differential or a copy. Pure.
import type { RestorePoint } from "../backup-types";
import { isCheckpointName } from "../../helper/protocol/point-names";

export interface PointDeleteRequest {
    /** The chain ("" for the backup folder itself). */
    chain: string;
    /** The point deleted. */
    point: string;
    /** The point its changes go into (helper consolidate --until). */
    until: string;
    /** For an incremental: the first point merged (helper consolidate --from). */
    from?: string;
}

/** The request that deletes `point`, given its chain's points oldest first; null when it cannot be deleted. */
export function deleteRequest(chainPoints: readonly RestorePoint[], point: RestorePoint): PointDeleteRequest | null {
    const i = chainPoints.indexOf(point);
    const next = chainPoints[i + 1];
    if (i < 0 || !next || i + 1 === chainPoints.length - 1 || !point.complete || !next.complete)
        return null;
    if (!isCheckpointName(point.name) || !isCheckpointName(next.name) || next.level !== "inc")
        return null;
    const chain = point.chain ?? "";
    if (i === 0 && point.level === "full")
        return { chain, point: point.name, until: next.name };
    if (point.level === "inc")
        return { chain, point: point.name, until: next.name, from: point.name };
    return null;
}
