// SPDX-License-Identifier: GPL-3.0-or-later
// zlib's adler32 (initial value 1), as a streaming accumulator. The sums come from codec-node
// (libdeflate's SIMD adler32, ~24 GB/s here): computed in JavaScript, at ~1.2 GB/s, the checksum
// took most of a full backup's CPU time.
import { adler32 as nativeAdler32 } from "codec-node";

/** adler32 of `buf` continuing from `seed` (1 for a fresh checksum). Unsigned 32-bit result. */
export function adler32(buf: Uint8Array, seed = 1): number {
    return nativeAdler32(buf, seed);
}

/** Streaming adler32: feed the bytes in order with update(), read the value with digest(). */
export class Adler32 {
    private value = 1;

    update(buf: Uint8Array): this {
        this.value = nativeAdler32(buf, this.value);
        return this;
    }

    /** The checksum so far, as an unsigned 32-bit integer (what Python's zlib.adler32 returns). */
    digest(): number {
        return this.value;
    }
}
