// SPDX-License-Identifier: GPL-3.0-or-later
// Types of fileio-node: a checksummed positioned write, Linux's sync_file_range(2) and
// posix_fadvise(2), a non-blocking flock(2), and page-aligned Buffers for file reads, for Node.js.

/** A failed system call: `code` is errno's name ('EBADF', 'EIO', 'ESPIPE', …), `errno` its negative number. */
export interface FileIoError extends Error {
    code?: string;
    errno?: number;
    syscall?: "pwritev" | "sync_file_range" | "posix_fadvise" | "flock";
}

/**
 * Writes the bytes of `buffers`, back to back, at `position` of the open file `fd` (short writes are
 * continued; a write that fails rejects with its errno, e.g. 'ENOSPC') and resolves with zlib's adler32
 * of those bytes continued from `seed` (default 1, a fresh checksum): writeSummed(fd, [b], p + a.length,
 * await writeSummed(fd, [a], p)) sums a + b. One thread-pool job: the bytes are summed while they are
 * hot in that core's cache, just before the kernel copies them. The buffers must not change until it settles.
 */
export declare function writeSummed(fd: number, buffers: Uint8Array[], position: number, seed?: number): Promise<number>;

export declare const constants: {
    readonly SYNC_FILE_RANGE_WAIT_BEFORE: number;
    readonly SYNC_FILE_RANGE_WRITE: number;
    readonly SYNC_FILE_RANGE_WAIT_AFTER: number;
    readonly POSIX_FADV_NORMAL: number;
    readonly POSIX_FADV_SEQUENTIAL: number;
    readonly POSIX_FADV_WILLNEED: number;
    readonly POSIX_FADV_DONTNEED: number;
};

/**
 * sync_file_range(fd, offset, length, flags) on the thread pool. With SYNC_FILE_RANGE_WRITE alone it
 * starts writeback of the range's dirty pages and returns; adding WAIT_BEFORE and WAIT_AFTER waits
 * until they are written. It makes no metadata durable and does not flush the device's cache: fsync
 * the file when it must survive a crash. `length` 0 means "to the end of the file".
 */
export declare function syncFileRange(fd: number, offset: number, length: number, flags: number): Promise<void>;

/**
 * posix_fadvise(fd, offset, length, advice) on the thread pool, e.g. POSIX_FADV_DONTNEED to drop
 * clean pages of a range from the page cache (dirty ones stay until written back).
 */
export declare function fadvise(fd: number, offset: number, length: number, advice: number): Promise<void>;

/**
 * flock(fd, LOCK_EX | LOCK_NB), synchronous (it never blocks): true when this open file description now
 * holds the exclusive lock, false when another one holds it (another process, or another open() of the
 * same file in this one). The kernel releases the lock when the last descriptor of the description is
 * closed, which includes the process dying by any signal. `lock` false: flock(fd, LOCK_UN), returns true.
 * `lock` "shared": flock(fd, LOCK_SH | LOCK_NB): any number of shared holders, refused (false) while an
 * exclusive one holds it (and an exclusive taker is refused while shared ones hold it).
 * Other failures (EBADF, ENOLCK, ...) throw with errno's code.
 */
export declare function tryLock(fd: number, lock?: boolean | "shared"): boolean;

/**
 * A new Buffer of `size` bytes (not zeroed) whose first byte lies on an address that is a multiple of
 * `alignment` (a power of two, default 4096). Reads from the page cache into a buffer that is not aligned
 * to at least a cache line cost several times the CPU on some processors (the kernel's copy to user
 * space, e.g. 6× on AMD EPYC): buffers that file reads fill should come from here. Its `.buffer` is
 * larger than `size` (the bytes skipped to reach the boundary and those after).
 */
export declare function alignedBuffer(size: number, alignment?: number): Buffer<ArrayBuffer>;

/** How many bytes from the start of `view`'s bytes to the next multiple of `alignment` (a power of two) in memory; 0 when aligned. */
export declare function bytesToAlignment(view: Uint8Array, alignment: number): number;
