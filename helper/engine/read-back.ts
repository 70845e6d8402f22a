// SPDX-License-Identifier: GPL-3.0-or-later
// Reads a file back while it is being written, and sums it: the check that what is in the file is what was
// summed while writing (a consolidation's new full) then costs no pass of its own after the copy. It relies
// on the writer appending: each write told here must start where the last one ended. A write anywhere else
// (an earlier range rewritten) makes finish() read the whole file again, so the sum is always of the file
// as it is at the end. finish() also reads whatever lies past the last write told (up to the file's end).
import fsp from "node:fs/promises";
import { Adler32 } from "./adler32.ts";
import { alignedBuffer } from "fileio-node";

const BLOCK = 8 * 1024 * 1024;

export class ReadBackSum {
    private sum = new Adler32();
    /** Bytes summed, from 0. */
    private summed = 0;
    /** The end of the last write told. */
    private writtenEnd = 0;
    private appendOnly = true;
    private readonly buf = alignedBuffer(BLOCK);
    private running: Promise<void> | undefined;
    private failure: unknown;

    private constructor(private readonly fh: fsp.FileHandle) {}

    /** Opens `file` (the output being written; opened for reading only) to follow it. */
    static async open(file: string): Promise<ReadBackSum> {
        return new ReadBackSum(await fsp.open(file, "r"));
    }

    /** A write of [position, end) has completed. */
    written(position: number, end: number): void {
        if (position !== this.writtenEnd)
            this.appendOnly = false;
        this.writtenEnd = Math.max(this.writtenEnd, end);
        if (this.appendOnly && this.failure === undefined)
            this.running ??= this.follow().finally(() => { this.running = undefined; });
    }

    /** Sums what is written and not yet summed, one block at a time, while the writer goes on. */
    private async follow(): Promise<void> {
        try {
            while (this.appendOnly && this.summed < this.writtenEnd)
                await this.readBlock(Math.min(BLOCK, this.writtenEnd - this.summed));
        } catch (err) {
            this.failure = err;
        }
    }

    /** Reads and sums up to `length` bytes at `summed`; false at the end of the file. */
    private async readBlock(length: number): Promise<boolean> {
        const { bytesRead } = await this.fh.read(this.buf, 0, length, this.summed);
        if (bytesRead > 0) {
            this.sum.update(this.buf.subarray(0, bytesRead));
            this.summed += bytesRead;
        }
        return bytesRead > 0;
    }

    /**
     * After the writer has finished: the adler32 of the whole file as it is now, and its length. Reads what is
     * left, or everything again when a write was not an append.
     */
    async finish(signal?: AbortSignal): Promise<{ sum: number; length: number }> {
        await this.running;
        if (this.failure !== undefined)
            throw this.failure;
        if (!this.appendOnly) {
            this.sum = new Adler32();
            this.summed = 0;
        }
        for (;;) {
            signal?.throwIfAborted();
            if (!await this.readBlock(BLOCK))
                break;
        }
        return { sum: this.sum.digest(), length: this.summed };
    }

    async close(): Promise<void> {
        this.appendOnly = false;  // stops following
        await this.running;
        await this.fh.close();
    }
}
