// SPDX-License-Identifier: GPL-3.0-or-later
import { FormatError } from "./errors.ts";

// Just enough of the lz4 frame format (header only) to learn a frame's uncompressed size without
// decompressing it. Both tools record the content size in every frame they write (Python's lz4.frame
// by default, ours through liblz4's contentSize preference); frames from elsewhere may lack it.

const MAGIC = 0x184d2204;
const FLG_CONTENT_SIZE = 0x08;
const FLG_DICT_ID = 0x01;
/** Longest frame header: magic 4 + FLG + BD + content size 8 + dict id 4 + header checksum. */
export const LZ4_MAX_HEADER_LENGTH = 19;

export interface Lz4FrameHeader {
    /** Bytes of the header, checksum included. */
    headerLength: number;
    /** Uncompressed size when the frame records it. */
    contentSize: number | undefined;
}

const P1 = 0x9e3779b1, P2 = 0x85ebca77, P3 = 0xc2b2ae3d, P4 = 0x27d4eb2f, P5 = 0x165667b1;
const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;

/** xxHash32 (seed 0) of fewer than 16 bytes: all a frame descriptor ever needs. */
export function xxh32Short(data: Uint8Array): number {
    if (data.length >= 16) throw new RangeError("xxh32Short handles fewer than 16 bytes");
    let acc = (P5 + data.length) >>> 0;
    let i = 0;
    for (; i + 4 <= data.length; i += 4) {
        const lane = (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) >>> 0;
        acc = Math.imul(rotl((acc + Math.imul(lane, P3)) >>> 0, 17), P4) >>> 0;
    }
    for (; i < data.length; i++) {
        acc = Math.imul(rotl((acc + Math.imul(data[i], P5)) >>> 0, 11), P1) >>> 0;
    }
    acc = Math.imul(acc ^ (acc >>> 15), P2) >>> 0;
    acc = Math.imul(acc ^ (acc >>> 13), P3) >>> 0;
    return (acc ^ (acc >>> 16)) >>> 0;
}

function descriptorChecksum(descriptor: Uint8Array): number {
    return (xxh32Short(descriptor) >>> 8) & 0xff;
}

/** Parses the header at the start of `buf` (which must hold at least the whole header). */
export function parseLz4FrameHeader(buf: Uint8Array): Lz4FrameHeader {
    if (buf.length < 7) throw new FormatError(`lz4 frame header truncated (${buf.length} bytes)`);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (view.getUint32(0, true) !== MAGIC) {
        throw new FormatError(`no lz4 frame here (magic ${view.getUint32(0, true).toString(16).padStart(8, "0")})`);
    }
    const flg = buf[4];
    if (flg >> 6 !== 1) throw new FormatError(`unsupported lz4 frame version ${flg >> 6}`);
    const descriptorLength = 2 + (flg & FLG_CONTENT_SIZE ? 8 : 0) + (flg & FLG_DICT_ID ? 4 : 0);
    const headerLength = 4 + descriptorLength + 1;
    if (buf.length < headerLength) throw new FormatError(`lz4 frame header truncated (${buf.length} of ${headerLength} bytes)`);
    const descriptor = buf.subarray(4, 4 + descriptorLength);
    if (descriptorChecksum(descriptor) !== buf[4 + descriptorLength]) {
        throw new FormatError("lz4 frame header checksum mismatch");
    }
    let contentSize: number | undefined;
    if (flg & FLG_CONTENT_SIZE) {
        const size = view.getBigUint64(6, true);
        if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`lz4 frame content size ${size} too large`);
        contentSize = Number(size);
    }
    return { headerLength, contentSize };
}
