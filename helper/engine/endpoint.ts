// SPDX-License-Identifier: GPL-3.0-or-later
// The copy pipeline's view of the world: a Source it reads chunks from, a Sink it hands chunks to in
// offset order. Backup and restore are the same copy with different endpoints:
//   backup:  NbdSource (libvirt pull-mode export)  -> StreamSink | ImageSink (raw, -t raw)
//   restore: MergedSource (a chain's backup files)  -> ImageSink (raw or qcow2 image)
//   (NbdSink writes to an NBD target such as qemu-nbd; no command uses it now)
// Endpoints know nothing of libvirt, levels or UIs; the pipeline knows no endpoint type.

/** A byte range of the virtual disk. `data: false` means it reads as zeroes (hole or zero cluster). */
export interface Extent {
    offset: number;
    length: number;
    data: boolean;
}

/** A piece of a data extent that is read and written as one request. */
export interface Chunk {
    offset: number;
    length: number;
}

export interface Source {
    /** Virtual size of the disk in bytes. */
    readonly size: number;
    /**
     * Splits a data extent into the requests the source can serve. Most sources cut at a fixed size;
     * a compressed stream must cut where its lz4 frames end.
     */
    split(extent: Extent, maxChunk: number): Chunk[];
    /** Reads one chunk. May fill and return `buf` (length >= chunk.length) or return a new Buffer. */
    read(chunk: Chunk, buf: Buffer): Promise<Buffer>;
    close(): Promise<void>;
}

export interface Sink {
    /**
     * Optional: the chunk size this sink needs for an extent, when it is not the copy's default
     * (a compressed stream stores an extent below the server's request limit as one lz4 frame).
     */
    chunkSize?(extent: Extent, maxChunk: number): number;
    /**
     * Optional work done on each chunk as soon as it is read, concurrently and out of order
     * (compression). The result is what `writeChunk` receives.
     */
    transform?(chunk: Chunk, data: Buffer): Promise<Buffer>;
    /** Called in offset order before the first chunk of a data extent. */
    beginData(extent: Extent): Promise<void> | void;
    /** Called in offset order for each chunk of the current data extent. */
    writeChunk(chunk: Chunk, data: Buffer): Promise<void>;
    /** Called in offset order after the last chunk of a data extent. */
    endData(extent: Extent): Promise<void> | void;
    /** Called in offset order for an extent that reads as zeroes. */
    writeZero(extent: Extent): Promise<void>;
    /** Everything is written: flush, write trailers, make the result visible. */
    finish(): Promise<void>;
    /** The copy failed or was cancelled: leave nothing that looks complete. Must not throw. */
    abort(): Promise<void>;
}
