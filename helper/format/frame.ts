// SPDX-License-Identifier: GPL-3.0-or-later
import { FormatError } from "./errors.ts";

// Every frame starts with "KIND SSSSSSSSSSSSSSSS LLLLLLLLLLLLLLLL\r\n": ASCII, 16 hex digits each.
export const FRAME_HEADER_LENGTH = 40;
/** The CRLF that ends the meta JSON, each data payload and the trailer JSON. */
export const TERM = Buffer.from("\r\n", "latin1");

export type FrameKind = "meta" | "data" | "zero" | "stop" | "comp";
const KINDS: ReadonlySet<string> = new Set(["meta", "data", "zero", "stop", "comp"]);

export interface FrameHeader {
    kind: FrameKind;
    start: number;
    length: number;
}

function checkU64(name: string, value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
        throw new FormatError(`frame ${name} ${value} is not an integer in 0..${Number.MAX_SAFE_INTEGER}`);
    }
}

/** Writes a 40-byte header into `target` at `at`. */
export function writeFrameHeader(target: Buffer, at: number, kind: FrameKind, start: number, length: number): void {
    checkU64("start", start);
    checkU64("length", length);
    const text = `${kind} ${start.toString(16).padStart(16, "0")} ${length.toString(16).padStart(16, "0")}\r\n`;
    target.write(text, at, FRAME_HEADER_LENGTH, "latin1");
}

export function encodeFrameHeader(kind: FrameKind, start: number, length: number): Buffer {
    const header = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
    writeFrameHeader(header, 0, kind, start, length);
    return header;
}

function hexDigit(c: number): number {
    if (c >= 0x30 && c <= 0x39) return c - 0x30;
    if (c >= 0x61 && c <= 0x66) return c - 0x57;
    if (c >= 0x41 && c <= 0x46) return c - 0x37; // the other tool parses with int(x, 16), which allows upper case
    return -1;
}

/** Parses 16 hex digits; values beyond 2^53-1 are refused rather than rounded. */
function parseHex16(buf: Uint8Array, at: number, name: string): number {
    let high = 0;
    let low = 0;
    for (let i = 0; i < 16; i++) {
        const d = hexDigit(buf[at + i]);
        if (d < 0) {
            const shown = Buffer.from(buf.subarray(at, at + 16)).toString("latin1");
            throw new FormatError(`frame ${name} ${JSON.stringify(shown)} is not 16 hex digits`);
        }
        if (i < 8) high = high * 16 + d;
        else low = low * 16 + d;
    }
    if (high > 0x1fffff) {
        throw new FormatError(`frame ${name} 0x${Buffer.from(buf.subarray(at, at + 16)).toString("latin1")} exceeds ${Number.MAX_SAFE_INTEGER}`);
    }
    return high * 0x100000000 + low;
}

/** Parses the 40-byte header at `buf[at]`. Throws FormatError (without a location; callers add it). */
export function parseFrameHeader(buf: Uint8Array, at = 0): FrameHeader {
    if (buf.length - at < FRAME_HEADER_LENGTH) {
        throw new FormatError(`truncated frame header: ${Math.max(0, buf.length - at)} of ${FRAME_HEADER_LENGTH} bytes`);
    }
    const kind = Buffer.from(buf.buffer, buf.byteOffset + at, 4).toString("latin1");
    if (!KINDS.has(kind)) {
        throw new FormatError(`bad frame kind ${JSON.stringify(kind)} (expected meta, data, zero, stop or comp)`);
    }
    if (buf[at + 4] !== 0x20 || buf[at + 21] !== 0x20 || buf[at + 38] !== 0x0d || buf[at + 39] !== 0x0a) {
        throw new FormatError(`malformed ${kind} frame header ${JSON.stringify(Buffer.from(buf.subarray(at, at + FRAME_HEADER_LENGTH)).toString("latin1"))}`);
    }
    return {
        kind: kind as FrameKind,
        start: parseHex16(buf, at + 5, "start"),
        length: parseHex16(buf, at + 22, "length"),
    };
}

/** True when `buf[at]` holds CRLF. */
export function isTerm(buf: Uint8Array, at = 0): boolean {
    return buf.length - at >= 2 && buf[at] === 0x0d && buf[at + 1] === 0x0a;
}
