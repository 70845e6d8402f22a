// SPDX-License-Identifier: GPL-3.0-or-later
// The browse commands' answers as the page reads them (helper browse-point, browse-list, browse-restore),
// checked field by field like every helper answer (src/helper-answer.ts).
import { HelperError, checkFields, checkList, isRecord, parseJson } from "./helper-answer";
import type { HostRestoreResult } from "../helper/browse/copy-out";

export type { HostRestoreResult };

/** A partition or whole-disk file system of the browsed disk. */
export interface BrowseVolume {
    /** "p1", "p2", ... or "disk" (no partition table). */
    id: string;
    type?: string;
    label?: string;
    size: number;
    mounted: boolean;
    /** Why it is not mounted. */
    reason?: string;
}

/** `helper browse-point`: the session and what it mounted. */
export interface BrowseOpened {
    session: string;
    /** The disk browsed (vda, ...). */
    dev: string;
    volumes: BrowseVolume[];
}

export interface BrowseEntry {
    name: string;
    type: "file" | "folder" | "symlink" | "other";
    size: number;
    /** Seconds since the epoch. */
    mtime: number;
    target?: string;
}

export interface BrowseListing {
    /** The folder, as the helper resolved it. */
    path: string;
    entries: BrowseEntry[];
}

export function parseBrowseOpened(stdout: string): BrowseOpened {
    const answer = parseJson(stdout);
    checkFields(answer, { session: "string", dev: "string" }, "browse");
    const volumes = (answer as Record<string, unknown>).volumes;
    if (!Array.isArray(volumes))
        throw new HelperError("unexpected", "browse.volumes is not a list");
    volumes.forEach((v, i) => checkFields(v, { id: "string", size: "number", mounted: "boolean" }, `browse.volumes[${i}]`));
    return answer as BrowseOpened;
}

export function parseBrowseListing(stdout: string): BrowseListing {
    const answer = parseJson(stdout);
    checkFields(answer, { path: "string" }, "listing");
    const entries = isRecord(answer) ? answer.entries : undefined;
    if (!Array.isArray(entries))
        throw new HelperError("unexpected", "listing.entries is not a list");
    entries.forEach((e, i) => checkFields(e, { name: "string", type: "string", size: "number", mtime: "number" }, `listing.entries[${i}]`));
    return answer as BrowseListing;
}

/** `helper browse-restore`: where the copy went and what it holds. */
export function parseHostRestore(stdout: string): HostRestoreResult {
    const answer = parseJson(stdout);
    checkFields(answer, { target: "string", files: "number", folders: "number", bytes: "number" }, "restored");
    checkList(answer as Record<string, unknown>, "skipped", "restored", (p, w) => {
        if (typeof p !== "string")
            throw new HelperError("unexpected", `${w} is not a string`);
    });
    return answer as HostRestoreResult;
}
