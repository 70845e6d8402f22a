// SPDX-License-Identifier: GPL-3.0-or-later
// The extent map of several stream files of one disk applied in order (a consolidation): the newest file
// wins where files overlap, a full's zero frames stay zero, ranges no file covers are holes. Pure: no I/O.
import type { Extent } from "./endpoint.ts";
import { mergeExtents } from "./extents.ts";

/** A range of the merged disk and the layer (index into the files, oldest first) whose bytes it takes. */
export interface Piece {
    offset: number;
    length: number;
    /** Index of the file holding the bytes; ZERO_LAYER: reads as zeroes (a full's zero frame). */
    layer: number;
}

export const ZERO_LAYER = -1;

/**
 * `top` painted over `below` (both sorted, non-overlapping): where `top` has a piece it wins, elsewhere
 * `below`'s pieces remain, cut where `top` begins and ends. Linear in the two lengths.
 */
export function overlay(below: readonly Piece[], top: readonly Piece[]): Piece[] {
    const out: Piece[] = [];
    let i = 0;
    // Everything before `pos` is decided (the end of the last top piece).
    let pos = 0;
    // below's pieces (what is left of them after `pos`) up to `until`.
    const emitBelow = (until: number) => {
        while (i < below.length && below[i].offset < until) {
            const b = below[i];
            const start = Math.max(b.offset, pos);
            const end = Math.min(b.offset + b.length, until);
            if (end > start)
                out.push({ offset: start, length: end - start, layer: b.layer });
            if (b.offset + b.length > until)
                return;
            i++;
        }
    };
    for (const t of top) {
        if (t.length <= 0)
            continue;
        if (t.offset < pos)
            throw new Error(`layer pieces overlap or are unsorted at ${t.offset}`);
        emitBelow(t.offset);
        out.push({ ...t });
        pos = t.offset + t.length;
        while (i < below.length && below[i].offset + below[i].length <= pos)
            i++;
    }
    emitBelow(Infinity);
    return out;
}

/** The pieces of one file's frames: its data frames as `layer`, its zero frames as zeroes. */
export function layerPieces(extents: readonly Extent[], layer: number): Piece[] {
    return extents.map(e => ({ offset: e.offset, length: e.length, layer: e.data ? layer : ZERO_LAYER }));
}

/**
 * The merged map of `layers` (each one file's frames in file order, oldest first). The first is the base:
 * its zero frames are kept; later files (incrementals) hold only data frames.
 */
export function mergeLayers(layers: readonly (readonly Extent[])[]): Piece[] {
    let map: Piece[] = [];
    layers.forEach((extents, i) => {
        // A later file's zero frames would only say "unchanged" to the other tool's reader: never paint them.
        const pieces = layerPieces(i === 0 ? extents : extents.filter(e => e.data), i);
        map = i === 0 ? mergeSameLayer(pieces) : overlay(map, pieces);
    });
    return mergeSameLayer(map);
}

/** Joins touching pieces of the same layer; checks order. */
function mergeSameLayer(pieces: readonly Piece[]): Piece[] {
    const out: Piece[] = [];
    for (const p of pieces) {
        if (p.length <= 0)
            continue;
        const last = out[out.length - 1];
        if (last && p.offset < last.offset + last.length)
            throw new Error(`layer pieces overlap or are unsorted at ${p.offset}`);
        if (last && last.layer === p.layer && last.offset + last.length === p.offset)
            last.length += p.length;
        else
            out.push({ ...p });
    }
    return out;
}

/**
 * The frames the merged file holds. A full (`size` given) tiles the whole disk: data where a file has bytes,
 * zero frames for zero ranges and holes. An incremental (`size` undefined) holds only data frames.
 */
export function mergedExtents(pieces: readonly Piece[], size?: number): Extent[] {
    const extents: Extent[] = [];
    let pos = 0;
    for (const p of pieces) {
        if (size !== undefined && p.offset > pos)
            extents.push({ offset: pos, length: p.offset - pos, data: false });
        if (p.layer !== ZERO_LAYER || size !== undefined)
            extents.push({ offset: p.offset, length: p.length, data: p.layer !== ZERO_LAYER });
        pos = p.offset + p.length;
    }
    if (size !== undefined) {
        if (pos > size)
            throw new Error(`the merged files reach ${pos}, past the disk size ${size}`);
        if (pos < size)
            extents.push({ offset: pos, length: size - pos, data: false });
    }
    return mergeExtents(extents);
}

/** Index of the last piece starting at or before `offset` (binary search); -1 when none. */
export function pieceIndexAt(pieces: readonly Piece[], offset: number): number {
    let lo = 0;
    let hi = pieces.length - 1;
    let found = -1;
    while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (pieces[mid].offset <= offset) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return found;
}
