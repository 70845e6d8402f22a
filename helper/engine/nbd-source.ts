// SPDX-License-Identifier: GPL-3.0-or-later
// Source endpoint: an NBD export (libvirt's pull-mode backup export, or qemu-nbd) read through
// libnbd-node, with several connections when the server allows multi-conn.
import { Handle } from "libnbd-node";
import type { Chunk, Extent, Source } from "./endpoint.ts";
import { appendStatusExtents, maxStatusLength, splitFixed, type StatusKind } from "./extents.ts";

export const CONTEXT_ALLOCATION = "base:allocation";

export interface NbdSourceOptions {
    /** Unix socket of the NBD server. */
    socket: string;
    exportName: string;
    /** Meta contexts to negotiate (block status), e.g. base:allocation and a dirty bitmap. */
    contexts?: string[];
    /** Connections to open when the server allows multi-conn. */
    connections?: number;
    /**
     * Largest NBD request a read is split into (default 256 KiB). A chunk of the copy is read as several
     * such requests spread over the connections: QEMU's server answers small requests sooner and works on
     * more of them at once, while the copy keeps its bigger chunks for writing and summing.
     */
    requestSize?: number;
}

export const DEFAULT_REQUEST_SIZE = 256 * 1024;

export class NbdSource implements Source {
    private next = 0;

    private constructor(
        private readonly handles: Handle[],
        readonly size: number,
        /** The server's largest request; reads are split at it. */
        readonly maxRequest: number,
        private readonly requestSize: number,
    ) {}

    static async open(options: NbdSourceOptions): Promise<NbdSource> {
        const first = await connect(options);
        try {
            const size = first.getSize();
            const maxRequest = Math.min(blockSizeOr(first, "maximum", 32 << 20), 32 << 20);
            const handles = [first];
            const wanted = Math.max(1, options.connections ?? 1);
            if (wanted > 1 && first.canMultiConn()) {
                for (let i = 1; i < wanted; i++)
                    handles.push(await connect({ ...options, contexts: [] }));
            }
            const requestSize = Math.min(options.requestSize ?? DEFAULT_REQUEST_SIZE, maxRequest);
            return new NbdSource(handles, size, maxRequest, requestSize);
        } catch (err) {
            first.close();
            throw err;
        }
    }

    get connections(): number {
        return this.handles.length;
    }

    split(extent: Extent, maxChunk: number): Chunk[] {
        return splitFixed(extent, Math.min(maxChunk, this.maxRequest));
    }

    async read(chunk: Chunk, buf: Buffer): Promise<Buffer> {
        const view = buf.subarray(0, chunk.length);
        if (chunk.length <= this.requestSize)
            return this.nextHandle().pread(view, chunk.offset);
        const pieces: Promise<Buffer>[] = [];
        for (let at = 0; at < chunk.length; at += this.requestSize)
            pieces.push(this.nextHandle().pread(view.subarray(at, at + this.requestSize), chunk.offset + at));
        // Settled means no request fills the buffer any more (the copy reuses it): wait for every piece.
        const results = await Promise.allSettled(pieces);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (failed)
            throw failed.reason;
        return view;
    }

    private nextHandle(): Handle {
        const handle = this.handles[this.next];
        this.next = (this.next + 1) % this.handles.length;
        return handle;
    }

    /**
     * The extents of the whole export by one meta context's block status (base:allocation: data and zero
     * extents; a qemu:dirty-bitmap: its dirty extents, as data), asked in pieces below 4 GiB and continued
     * from wherever each answer ended.
     */
    async extents(context: string): Promise<Extent[]> {
        const kind = statusKind(context);
        const handle = this.handles[0];
        if (!handle.canMetaContext(context))
            throw new Error(`the NBD server does not offer the meta context ${context}`);
        const extents: Extent[] = [];
        const max = maxStatusLength(blockSizeOr(handle, "minimum", 512));
        let offset = 0;
        while (offset < this.size) {
            const length = Math.min(max, this.size - offset);
            let next = offset;
            await handle.blockStatus(length, offset, (name, start, entries) => {
                if (name === context)
                    next = appendStatusExtents(extents, start, entries, this.size, kind);
            });
            if (next <= offset)
                throw new Error(`the NBD server answered no ${context} extents at offset ${offset}`);
            offset = next;
        }
        return extents;
    }

    async close(): Promise<void> {
        await Promise.allSettled(this.handles.map(async h => {
            await h.shutdown().catch(() => {});
            h.close();
        }));
    }
}

function statusKind(context: string): StatusKind {
    if (context === CONTEXT_ALLOCATION)
        return "allocation";
    if (context.startsWith("qemu:dirty-bitmap:"))
        return "dirty";
    throw new Error(`no extents are known for the meta context ${context}`);
}

async function connect(options: NbdSourceOptions): Promise<Handle> {
    const handle = new Handle();
    try {
        for (const context of options.contexts ?? [])
            handle.addMetaContext(context);
        handle.setExportName(options.exportName);
        // libnbd zeroes every read buffer first unless told not to: a memset of everything we copy. A read
        // that succeeds has filled the whole buffer, and a failed read's buffer is never used.
        handle.setPreadInitialize(false);
        await handle.connectUnix(options.socket);
        return handle;
    } catch (err) {
        handle.close();
        throw err;
    }
}

function blockSizeOr(handle: Handle, which: "minimum" | "preferred" | "maximum", fallback: number): number {
    try {
        const size = handle.getBlockSize(which);
        return size > 0 ? size : fallback;
    } catch {
        return fallback;
    }
}
