// Writes a full-size raw image (`-t raw` backups, restores to a plain file): a fresh sparse file of the
// disk's size, data chunks written at their offsets, zero extents left as holes. Written as
// "<file>.partial" and renamed when complete; an existing file is never replaced.
import fsp from "node:fs/promises";
import path from "node:path";
import type { Chunk, Extent, Sink } from "./endpoint.ts";
import { partialFileName } from "../format/index.ts";
import { publish, refuseExisting, syncDirectory, writeAll } from "./stream-sink.ts";

type State = "open" | "finished" | "aborted";

export class RawSink implements Sink {
    private state: State = "open";

    private constructor(
        readonly file: string,
        readonly partialFile: string,
        readonly size: number,
        private readonly fh: fsp.FileHandle,
    ) {}

    /** Creates `<file>.partial` (truncating a stale one) as a hole of `size` bytes. */
    static async create(file: string, size: number): Promise<RawSink> {
        if (!Number.isSafeInteger(size) || size < 0) throw new Error(`invalid image size ${size}`);
        await refuseExisting(file);
        const partialFile = partialFileName(file);
        const fh = await fsp.open(partialFile, "w");
        try {
            await fh.truncate(size);
        } catch (err) {
            await fh.close().catch(() => {});
            await fsp.rm(partialFile, { force: true }).catch(() => {});
            throw err;
        }
        return new RawSink(file, partialFile, size, fh);
    }

    beginData(): void {}

    async writeChunk(chunk: Chunk, data: Buffer): Promise<void> {
        if (this.state !== "open") throw new Error(`raw sink is ${this.state}`);
        if (data.length !== chunk.length) throw new Error(`chunk at ${chunk.offset}: got ${data.length} bytes, expected ${chunk.length}`);
        if (chunk.offset < 0 || chunk.offset + chunk.length > this.size) {
            throw new Error(`chunk ${chunk.offset}+${chunk.length} exceeds the image size ${this.size}`);
        }
        await writeAll(this.fh, [data], chunk.offset);
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
        await this.fh.sync();
        await this.fh.close();
        await publish(this.partialFile, this.file);
        await syncDirectory(path.dirname(this.file));
        this.state = "finished";
    }

    async abort(): Promise<void> {
        if (this.state !== "open") return;
        this.state = "aborted";
        await this.fh.close().catch(() => {});
        await fsp.rm(this.partialFile, { force: true }).catch(() => {});
    }
}
