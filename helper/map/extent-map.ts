// SPDX-License-Identifier: GPL-3.0-or-later
// Which stored frame serves each range of a mapped disk: the chain's files laid over each other, the
// newest file winning wherever it holds a range. Pure: the files' frames come from StreamSource.

/**
 * A window [offset, offset+length) of the disk read from one stored frame. The frame holds
 * [frameOffset, frameOffset+frameLength) of the disk and lies at fileOffset in file `file`, storedLength
 * bytes long (a plain data payload, or one lz4 frame). `file` null: the range reads as zeroes (a full's
 * zero frame, or no file holds it).
 */
export interface MapExtent {
    offset: number;
    length: number;
    file: number | null;
    fileOffset: number;
    storedLength: number;
    frameOffset: number;
    frameLength: number;
}

/** A zero range (no frame). */
export function zeroExtent(offset: number, length: number): MapExtent {
    return { offset, length, file: null, fileOffset: 0, storedLength: 0, frameOffset: offset, frameLength: length };
}

/** The part [from, to) of `e` (the frame stays the same). */
function clip(e: MapExtent, from: number, to: number): MapExtent {
    return { ...e, offset: from, length: to - from };
}

/**
 * Lays `older` under `newer` (both sorted, without overlaps): every range of `newer`, and the parts of
 * `older` that `newer` leaves uncovered.
 */
export function overlay(newer: readonly MapExtent[], older: readonly MapExtent[]): MapExtent[] {
    const out: MapExtent[] = [];
    let n = 0;
    for (const o of older) {
        let pos = o.offset;
        const end = o.offset + o.length;
        // Newer ranges that end before this one starts are placed first.
        while (n < newer.length && newer[n].offset + newer[n].length <= pos)
            out.push(newer[n++]);
        let k = n;
        while (pos < end) {
            const cover = newer[k];
            if (!cover || cover.offset >= end) {
                out.push(clip(o, pos, end));
                break;
            }
            if (cover.offset > pos)
                out.push(clip(o, pos, cover.offset));
            pos = Math.max(pos, cover.offset + cover.length);
            if (cover.offset + cover.length <= end)
                k++;
            else
                break;
        }
    }
    while (n < newer.length)
        out.push(newer[n++]);
    return out.sort((a, b) => a.offset - b.offset);
}

/**
 * The whole disk, [0, size), from the chain's layers (oldest first, each sorted without overlaps):
 * the newest layer holding a range wins, ranges no layer holds read as zeroes, and neighbouring zero
 * ranges are one.
 */
export function mergeLayers(size: number, layers: readonly (readonly MapExtent[])[]): MapExtent[] {
    let merged: MapExtent[] = [];
    for (const layer of layers) {
        checkLayer(size, layer);
        merged = overlay(layer, merged);
    }
    const out: MapExtent[] = [];
    let pos = 0;
    const push = (e: MapExtent) => {
        const last = out.at(-1);
        if (last && last.file === null && e.file === null)
            out[out.length - 1] = zeroExtent(last.offset, last.length + e.length);
        else
            out.push(e);
    };
    for (const e of merged) {
        if (e.offset > pos)
            push(zeroExtent(pos, e.offset - pos));
        push(e.file === null ? zeroExtent(e.offset, e.length) : e);
        pos = e.offset + e.length;
    }
    if (pos < size)
        push(zeroExtent(pos, size - pos));
    return out;
}

function checkLayer(size: number, layer: readonly MapExtent[]): void {
    let end = 0;
    for (const e of layer) {
        if (e.length <= 0 || e.offset < end || e.offset + e.length > size)
            throw new Error(`map layer range ${e.offset}+${e.length} overlaps, is empty or exceeds the disk size ${size}`);
        end = e.offset + e.length;
    }
}
