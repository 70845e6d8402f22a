// SPDX-License-Identifier: GPL-3.0-or-later
import { FormatError, oneLineMessage } from "./errors.ts";
import { encodeFrameHeader, TERM } from "./frame.ts";
import { pyJsonDumps, type PyJsonValue } from "./pyjson.ts";

/**
 * Compressed sizes of one data frame: a number when its payload is one lz4 frame, else the list of
 * per-chunk lz4 frame sizes (written as {"<total>": [sizes...]}).
 */
export type TrailerEntry = number | { sizes: number[] };

/** The other tool's maximum NBD request size on QEMU; its chunking and trailer form depend on it. */
export const DEFAULT_MAX_REQUEST_SIZE = 32 * 1024 * 1024;

/** Total stored (compressed) payload bytes of one entry. */
export function entryStoredSize(entry: TrailerEntry): number {
    return typeof entry === "number" ? entry : entry.sizes.reduce((a, b) => a + b, 0);
}

/**
 * The entry the other tool writes for a data extent: it reads extents of at least its max request size
 * chunk by chunk and records the list form (even for a single chunk); shorter extents are one frame.
 * Its reader depends on that: a short extent must be a plain number, a long one a list.
 */
export function trailerEntryFor(extentLength: number, chunkSizes: readonly number[], maxRequestSize = DEFAULT_MAX_REQUEST_SIZE): TrailerEntry {
    if (extentLength >= maxRequestSize) return { sizes: [...chunkSizes] };
    if (chunkSizes.length !== 1) {
        throw new FormatError(`a data extent of ${extentLength} bytes (below the max request size ${maxRequestSize}) must be one lz4 frame, got ${chunkSizes.length}`);
    }
    return chunkSizes[0];
}

/** The trailer JSON as Python's json.dumps(list) writes it, e.g. `[4113, {"9024551": [4512301, 4512250]}]`. */
export function encodeTrailerJson(entries: readonly TrailerEntry[]): string {
    const list: PyJsonValue[] = entries.map((e) => {
        if (typeof e === "number") return e;
        return { [String(entryStoredSize(e))]: e.sizes };
    });
    return pyJsonDumps(list);
}

/** Everything after the stop frame: JSON, CRLF, comp header. */
export function encodeTrailer(entries: readonly TrailerEntry[]): Buffer {
    const json = Buffer.from(encodeTrailerJson(entries), "latin1");
    return Buffer.concat([json, TERM, encodeFrameHeader("comp", 0, json.length)]);
}

function isSize(v: unknown): v is number {
    return typeof v === "number" && Number.isSafeInteger(v) && v > 0;
}

/** Parses and checks the trailer JSON (each size positive, each list's key equal to its sum). */
export function parseTrailerJson(json: Uint8Array | string): TrailerEntry[] {
    const text = typeof json === "string" ? json : Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString("utf8");
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (err) {
        throw new FormatError(`compression trailer is not valid JSON: ${oneLineMessage(err)}`);
    }
    if (!Array.isArray(value)) throw new FormatError("compression trailer is not a JSON array");
    return value.map((item: unknown, i): TrailerEntry => {
        if (isSize(item)) return item;
        if (typeof item === "object" && item !== null && !Array.isArray(item)) {
            const keys = Object.keys(item);
            const sizes = (item as Record<string, unknown>)[keys[0]];
            if (keys.length === 1 && /^[0-9]+$/.test(keys[0]) && Array.isArray(sizes) && sizes.length > 0 && sizes.every(isSize)) {
                const sum = sizes.reduce((a: number, b: number) => a + b, 0);
                if (String(sum) !== keys[0]) {
                    throw new FormatError(`compression trailer entry ${i}: total "${keys[0]}" is not the sum ${sum} of its sizes`);
                }
                return { sizes };
            }
        }
        throw new FormatError(`compression trailer entry ${i} is neither a size nor {"<total>": [sizes]}: ${JSON.stringify(item)}`);
    });
}
