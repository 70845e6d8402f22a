// SPDX-License-Identifier: GPL-3.0-or-later
// Writes a full-size raw image (`-t raw` backups, restores to a plain file): a fresh sparse file of the
// disk's size, data chunks written at their offsets, zero extents left as holes. Written as
// "<file>.partial" (an OutputFile) and renamed when complete; an existing file is never replaced.
import type { Chunk, Extent, Sink } from "./endpoint.ts";
import { OutputFile } from "./output-file.ts";

type State = "open" | "finished" | "aborted";

export class RawSink implements Sink {
    private state: State = "open";

    private constructor(private readonly out: OutputFile, readonly size: number) {}

    /** Creates `<file>.partial` (truncating a stale one) as a hole of `size` bytes. */
    static async create(file: string, size: number): Promise<RawSink> {
        if (!Number.isSafeInteger(size) || size < 0) throw new Error(`invalid image size ${size}`);
        return new RawSink(await OutputFile.create(file, size), size);
    }

    get file(): string {
        return this.out.file;
    }

    get partialFile(): string {
        return this.out.partialFile;
    }

    beginData(): void {}

    async writeChunk(chunk: Chunk, data: Buffer): Promise<void> {
        if (this.state !== "open") throw new Error(`raw sink is ${this.state}`);
        if (data.length !== chunk.length) throw new Error(`chunk at ${chunk.offset}: got ${data.length} bytes, expected ${chunk.length}`);
        if (chunk.offset < 0 || chunk.offset + chunk.length > this.size) {
            throw new Error(`chunk ${chunk.offset}+${chunk.length} exceeds the image size ${this.size}`);
        }
        await this.out.write([data], chunk.offset);
    }

    endData(): void {}

    /** Nothing to write: the file started as one hole. */
    async writeZero(extent: Extent): Promise<void> {
        if (extent.offset + extent.length > this.size) {
            throw new Error(`zero extent ${extent.offset}+${extent.length} exceeds the image size ${this.size}`);
        }
    }

    async finish(): Promise<void> {
        if (this.state !== "open") throw new Error(`raw sink is ${this.state}`);
        await this.out.close();
        await this.out.publish();
        this.state = "finished";
    }

    async abort(): Promise<void> {
        if (this.state !== "open") return;
        this.state = "aborted";
        await this.out.discard();
    }
}
