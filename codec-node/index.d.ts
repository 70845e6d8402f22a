// SPDX-License-Identifier: GPL-3.0-or-later
// Types of codec-node: liblz4's frame format and libdeflate's adler32 for Node.js.

/**
 * Errors of the lz4 functions: `code` is 'ERR_LZ4' (liblz4 refused the frame: bad header, checksum
 * mismatch, truncated — the message carries liblz4's error name), 'ERR_LZ4_SIZE' (the frame decodes
 * to another size than expected), 'ERR_LZ4_TRAILING' (bytes after the frame), 'ERR_LZ4_NO_MEMORY';
 * bad arguments throw (or reject with) TypeError 'ERR_INVALID_ARG_TYPE' / RangeError 'ERR_OUT_OF_RANGE'.
 */
export interface CodecError extends Error {
    code?: "ERR_LZ4" | "ERR_LZ4_SIZE" | "ERR_LZ4_TRAILING" | "ERR_LZ4_NO_MEMORY" | "ERR_INVALID_ARG_TYPE" | "ERR_OUT_OF_RANGE";
}

/**
 * zlib's adler32 of `data` continuing from `seed` (default 1, a fresh checksum), as an unsigned
 * 32-bit integer: `adler32(b, adler32(a))` equals `adler32(a + b)` and Python's `zlib.adler32`.
 * Synchronous: libdeflate sums tens of GB/s.
 */
export declare function adler32(data: Uint8Array, seed?: number): number;

export interface Lz4CompressOptions {
    /**
     * liblz4's compression level, a 32-bit integer: below 3 its fast mode (negative values compress
     * faster and worse), 3..12 its high-compression mode, above 12 the same as 12. Default 0.
     */
    level?: number;
    /** A checksum after every block (frame flag B.Checksum). Default false. */
    blockChecksum?: boolean;
    /** A checksum of the whole content after the end mark (frame flag C.Checksum). Default false. */
    contentChecksum?: boolean;
    /**
     * Record the input's length in the frame header (frame flag C.Size). Default true. An empty
     * input never records it: the format uses 0 for "unknown".
     */
    contentSize?: boolean;
}

/**
 * One complete lz4 frame holding `data`, in a Buffer of exactly the frame's length. Runs on the
 * libuv thread pool; `data` is kept alive until the Promise settles — do not change it meanwhile.
 */
export declare function lz4CompressFrame(data: Uint8Array, options?: Lz4CompressOptions): Promise<Buffer>;
/**
 * One frame per input, each byte for byte what lz4CompressFrame makes of it, compressed in one thread-pool
 * job: for many small inputs, one round trip instead of one each. The frames share one memory block (each
 * Buffer is a view of it); the inputs are kept alive until the Promise settles — do not change them meanwhile.
 */
export declare function lz4CompressFrames(inputs: Uint8Array[], options?: Lz4CompressOptions): Promise<Buffer[]>;
/**
 * The frame lz4CompressFrame makes of `data`, written into `out` (the first bytes; at least
 * lz4CompressFrameBound(data.length) long, else it rejects with 'ERR_LZ4' before writing), on the thread pool;
 * resolves with the frame's length. For a caller that reuses its output buffers: no allocation per frame.
 * `data` and `out` are kept alive until the Promise settles — do not change or read `out` meanwhile.
 */
export declare function lz4CompressFrameInto(data: Uint8Array, out: Uint8Array, options?: Lz4CompressOptions): Promise<number>;
/**
 * lz4CompressFrames into `out` (at least the summed lz4CompressFrameBound of the inputs, else it rejects with
 * 'ERR_LZ4' before writing): the frames lie back to back from its start; resolves with their lengths.
 * Inputs and `out` are kept alive until the Promise settles — do not change or read `out` meanwhile.
 */
export declare function lz4CompressFramesInto(inputs: Uint8Array[], out: Uint8Array, options?: Lz4CompressOptions): Promise<number[]>;
/** The most bytes a frame of `size` bytes of content can take with these options (liblz4's bound). */
export declare function lz4CompressFrameBound(size: number, options?: Lz4CompressOptions): number;
/** lz4CompressFrame on the calling thread. */
export declare function lz4CompressFrameSync(data: Uint8Array, options?: Lz4CompressOptions): Buffer;

/**
 * The content of the single lz4 frame that is all of `data`. Rejects unless the content is exactly
 * `expectedSize` bytes, when the frame is damaged (block and content checksums are verified when the
 * frame carries them) and when bytes follow the frame. Runs on the libuv thread pool.
 */
export declare function lz4DecompressFrame(data: Uint8Array, expectedSize: number): Promise<Buffer>;
/**
 * lz4DecompressFrame into `out` (at least `expectedSize` bytes; rejects with a RangeError when smaller), without
 * allocating: resolves with `expectedSize`. On a rejection `out` may hold part of the content.
 */
export declare function lz4DecompressFrameInto(data: Uint8Array, out: Uint8Array, expectedSize: number): Promise<number>;
/** lz4DecompressFrame on the calling thread. */
export declare function lz4DecompressFrameSync(data: Uint8Array, expectedSize: number): Buffer;

/** Versions of the libraries in use: liblz4 at run time, libdeflate at build time. */
export declare const versions: Readonly<{ lz4: string; libdeflate: string }>;
