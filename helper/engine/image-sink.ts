// SPDX-License-Identifier: GPL-3.0-or-later
// Writes a disk image: a raw image (data at its disk offsets: restores, and `-t raw` backups) or a qcow2
// image planned ahead (image/qcow2-layout.ts: data at computed file offsets, metadata written at the end).
// A fresh sparse `<file>.partial` (an OutputFile); zero extents stay holes, or unallocated clusters.
// finish() makes it durable but does not name it: a restore names all its files together (publish()).
// Small chunks that follow each other in the file (a fragmented point's 64 KiB extents land in adjacent
// qcow2 clusters) are gathered into one write: a write costs a thread-pool round trip, a copy of 64 KiB
// much less. Large chunks are written as they are.
import type { Chunk, Extent, Sink } from "./endpoint.ts";
import { OutputFile } from "./output-file.ts";

/** Where an image keeps the disk's bytes, and what else it holds. */
export interface ImagePlacement {
    /** Size of the image file. */
    readonly fileSize: number;
    /** File offset of the disk's bytes [offset, offset + length), which must be contiguous in the file. */
    hostOffset(offset: number, length: number): number;
    /** The image's own structures, written after the data. */
    metadata(): Iterable<{ offset: number; data: Buffer }>;
}

/** A raw image: the file is the disk. */
export function rawPlacement(size: number): ImagePlacement {
    return { fileSize: size, hostOffset: offset => offset, metadata: () => [] };
}

type State = "open" | "finished" | "aborted";

/** Gathered small chunks are written once they fill this much. */
const GATHER_BYTES = 1024 * 1024;
/** Chunks this large are written directly (after what was gathered before them). */
const DIRECT_BYTES = 512 * 1024;

/** Small chunks gathered for one write at `at`. */
class Gathered {
    length = 0;
    at = 0;
    constructor(readonly buffer: Buffer) {}
    get end(): number {
        return this.at + this.length;
    }
}

export class ImageSink implements Sink {
    private state: State = "open";
    private gathered: Gathered | undefined;
    /** The buffer of the gathered write in flight comes back here. */
    private spare: Gathered | undefined;
    private writing: Promise<void> | undefined;

    private constructor(private readonly out: OutputFile, private readonly placement: ImagePlacement, readonly size: number) {}

    /** Creates `<file>.partial` as a hole of the image's size; fails when `file` exists. */
    static async create(file: string, size: number, placement: ImagePlacement): Promise<ImageSink> {
        if (!Number.isSafeInteger(size) || size < 0)
            throw new Error(`invalid image size ${size}`);
        return new ImageSink(await OutputFile.create(file, placement.fileSize), placement, size);
    }

    get partialFile(): string {
        return this.out.partialFile;
    }

    beginData(): void {}
    endData(): void {}

    async writeChunk(chunk: Chunk, data: Buffer): Promise<void> {
        this.checkOpen();
        if (data.length !== chunk.length)
            throw new Error(`chunk at ${chunk.offset}: got ${data.length} bytes, expected ${chunk.length}`);
        this.checkRange(chunk.offset, chunk.length);
        const at = this.placement.hostOffset(chunk.offset, chunk.length);
        let g = this.gathered;
        if (g && g.length > 0 && (data.length >= DIRECT_BYTES || at !== g.end || g.length + data.length > GATHER_BYTES)) {
            await this.flushGathered();
            g = undefined;
        }
        if (data.length >= DIRECT_BYTES) {
            // In file order: after what was gathered before it.
            await this.writing;
            await this.out.write([data], at);
            return;
        }
        if (!g) {
            g = this.gathered = this.spare ?? new Gathered(Buffer.allocUnsafe(GATHER_BYTES));
            this.spare = undefined;
        }
        if (g.length === 0)
            g.at = at;
        data.copy(g.buffer, g.length);
        g.length += data.length;
    }

    /** Starts writing what was gathered (after the write before it); the next chunks gather in the other buffer. */
    private async flushGathered(): Promise<void> {
        const g = this.gathered;
        if (!g || g.length === 0)
            return;
        this.gathered = undefined;
        const before = this.writing;
        this.writing = (async () => {
            await before;
            await this.out.write([g.buffer.subarray(0, g.length)], g.at);
            g.length = 0;
            this.spare = g;
        })();
        // Its failure is met by whoever awaits it next (a later write, finish or abort).
        this.writing.catch(() => {});
        // The one before must be done before this buffer's twin is reused; a failure surfaces here or later.
        await before;
    }

    /** Nothing to write: a fresh image reads as zeroes where no data went. */
    async writeZero(extent: Extent): Promise<void> {
        this.checkOpen();
        this.checkRange(extent.offset, extent.length);
    }

    /** Writes the metadata and makes the file durable; publish() names it. */
    async finish(): Promise<void> {
        this.checkOpen();
        await this.flushGathered();
        await this.writing;
        for (const m of this.placement.metadata())
            await this.out.write([m.data], m.offset);
        await this.out.close();
        this.state = "finished";
    }

    /** Gives the finished image its final name (never replacing a file). */
    async publish(): Promise<void> {
        if (this.state !== "finished")
            throw new Error(`image sink is ${this.state}, not finished`);
        await this.out.publish();
    }

    /** Removes the unpublished image. Never throws. */
    async abort(): Promise<void> {
        if (this.state === "aborted")
            return;
        this.state = "aborted";
        await this.writing?.catch(() => {});
        await this.out.discard();
    }

    private checkOpen(): void {
        if (this.state !== "open")
            throw new Error(`image sink is ${this.state}`);
    }

    private checkRange(offset: number, length: number): void {
        if (offset < 0 || length < 0 || offset + length > this.size)
            throw new Error(`range ${offset}+${length} exceeds the disk size ${this.size}`);
    }
}
