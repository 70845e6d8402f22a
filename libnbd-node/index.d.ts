// SPDX-License-Identifier: GPL-3.0-or-later
// Types of libnbd-node: a Node.js binding to libnbd (https://libguestfs.org/libnbd.3.html).
// Methods keep libnbd's C names in camelCase. Everything that talks to the server returns a
// Promise; questions about what was negotiated at connect time are answered synchronously.

/** Errors from libnbd: its message, and errno (positive, as libnbd reports it) with its code. */
export interface NbdError extends Error {
    /** errno reported by libnbd or the server, e.g. 2; absent for this binding's own errors. */
    errno?: number;
    /**
     * 'ENOENT', 'EINVAL', ... for libnbd errors; 'ERR_NBD_CLOSED' (handle closed),
     * 'ERR_NBD_BUSY' (connect/shutdown in progress), 'ERR_INVALID_ARG_TYPE' / 'ERR_OUT_OF_RANGE'
     * (bad arguments).
     */
    code?: string;
    /** For requests rejected by close(): which command it was ('pread', 'block_status', ...). */
    operation?: string;
}

/** Command flags (LIBNBD_CMD_FLAG_*), combined with `|`. */
export declare const CmdFlag: Readonly<{
    FUA: 1;
    NO_HOLE: 2;
    DF: 4;
    REQ_ONE: 8;
    FAST_ZERO: 16;
}>;

/** Flags of block status entries: base:allocation uses HOLE and ZERO, qemu:dirty-bitmap:* uses DIRTY. */
export declare const BlockStatusFlag: Readonly<{ HOLE: 1; ZERO: 2; DIRTY: 1 }>;
export declare const STATE_HOLE: 1;
export declare const STATE_ZERO: 2;
export declare const STATE_DIRTY: 1;

export declare const CONTEXT_BASE_ALLOCATION: "base:allocation";
/** 'qemu:dirty-bitmap:' + bitmapName */
export declare function dirtyBitmapContext(bitmapName: string): string;

export type BlockSizeKind = "minimum" | "preferred" | "maximum";

/**
 * Called once per extent list that the server sends, before the blockStatus Promise resolves.
 * `entries` is exactly what libnbd reports: a flat list of (length, flags) pairs starting at
 * `offset`. Exceptions thrown here reject the blockStatus Promise.
 */
export type ExtentCallback = (metaContext: string, offset: number, entries: number[]) => void;

export declare class Handle {
    constructor();

    /** True once close() was called. */
    readonly closed: boolean;

    // ---- set-up (before connecting) ----
    setExportName(name: string): void;
    addMetaContext(name: string): void;
    setHandleName(name: string): void;
    getHandleName(): string;
    /** libnbd zeroes read buffers before each read unless this is set to false (default true). */
    setPreadInitialize(request: boolean): void;

    // ---- connecting ----
    /** nbd://, nbds://, nbd+unix://, ... as nbd_connect_uri(3) accepts. */
    connectUri(uri: string): Promise<void>;
    connectUnix(socketPath: string): Promise<void>;
    /** Runs argv as a subprocess speaking NBD on its stdin/stdout (`nbdkit -s ...`). */
    connectCommand(argv: readonly string[]): Promise<void>;
    /**
     * Runs argv as a subprocess handed a listening socket by systemd socket activation
     * (`qemu-nbd -f qcow2 IMAGE`, `nbdkit ...`); libnbd kills it when the handle is closed.
     */
    connectSystemdSocketActivation(argv: readonly string[]): Promise<void>;

    // ---- what the server negotiated (throw if not connected) ----
    getSize(): number;
    /** 0 when the server did not advertise that size. */
    getBlockSize(which: BlockSizeKind): number;
    canMetaContext(name: string): boolean;
    canMultiConn(): boolean;
    canZero(): boolean;
    canFastZero(): boolean;
    canTrim(): boolean;
    canFlush(): boolean;
    canFua(): boolean;
    canCache(): boolean;
    isReadOnly(): boolean;
    /** Commands submitted and not yet replied to. */
    aioInFlight(): number;

    // ---- I/O: any number may be in flight at once ----
    /** Fills `buffer` (its whole length) from `offset`, without extra copies; resolves with `buffer`. */
    pread<T extends Uint8Array>(buffer: T, offset: number, flags?: number): Promise<T>;
    /** Writes `buffer` at `offset`; do not modify the buffer until the Promise settles. */
    pwrite(buffer: Uint8Array, offset: number, flags?: number): Promise<void>;
    zero(length: number, offset: number, flags?: number): Promise<void>;
    trim(length: number, offset: number, flags?: number): Promise<void>;
    flush(flags?: number): Promise<void>;
    blockStatus(length: number, offset: number, callback: ExtentCallback, flags?: number): Promise<void>;

    // ---- ending ----
    /** Waits for commands in flight, sends NBD_CMD_DISC and resolves once the connection is closed. */
    shutdown(): Promise<void>;
    /**
     * Frees the handle at once: pending Promises reject with code 'ERR_NBD_CLOSED', later calls
     * reject (or throw, for the synchronous ones) with that code. Calling it again does nothing.
     */
    close(): void;
}
