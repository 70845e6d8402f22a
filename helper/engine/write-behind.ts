// SPDX-License-Identifier: GPL-3.0-or-later
// Streams a growing file to disk while it is written, as nbdcopy does: writeback of each new window
// is started at once (sync_file_range WRITE) and the window before it is waited for and dropped from
// the page cache (POSIX_FADV_DONTNEED). The final fsync then has almost nothing left to write, the
// device works during the copy instead of after it, and backing up a big disk does not push the
// host's useful pages out of the cache. Hints only: the caller still fsyncs before trusting the file.
import { constants, fadvise, syncFileRange } from "fileio-node";

const { SYNC_FILE_RANGE_WAIT_BEFORE, SYNC_FILE_RANGE_WRITE, SYNC_FILE_RANGE_WAIT_AFTER, POSIX_FADV_DONTNEED } = constants;
const WAIT_AND_WRITE = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;

export const WRITE_BEHIND_WINDOW = 8 * 1024 * 1024;

export class WriteBehind {
    /** [0, started) has had its writeback started. */
    private started = 0;
    /** [0, settled) is written and dropped from the cache. */
    private settled = 0;
    private end = 0;
    private running: Promise<void> | undefined;
    private failure: unknown;

    /** `keepCached`: written pages stay in the page cache (a caller that reads the file back at once). */
    constructor(private readonly fd: number, private readonly window = WRITE_BEHIND_WINDOW, private readonly keepCached = false) {}

    /**
     * Bytes up to `end` have been written (writes go in ascending order; holes between them are
     * fine). Starts the next step when a window is full and the previous step is done; never waits.
     */
    written(end: number): void {
        this.end = Math.max(this.end, end);
        if (this.running || this.failure !== undefined || this.end - this.started < this.window)
            return;
        const kickFrom = this.started;
        const kickTo = this.end;
        this.started = kickTo;
        this.running = this.step(kickFrom, kickTo).then(
            () => { this.running = undefined; },
            (err) => { this.failure ??= err; this.running = undefined; },
        );
    }

    /** Waits for the step in progress; rejects with the first failure (an I/O error of writeback). */
    async settle(): Promise<void> {
        await this.running;
        if (this.failure !== undefined)
            throw this.failure;
    }

    private async step(kickFrom: number, kickTo: number): Promise<void> {
        await syncFileRange(this.fd, kickFrom, kickTo - kickFrom, SYNC_FILE_RANGE_WRITE);
        // Everything before this window was kicked at least one window ago: mostly on disk already.
        if (kickFrom > this.settled) {
            const from = this.settled;
            await syncFileRange(this.fd, from, kickFrom - from, WAIT_AND_WRITE);
            if (!this.keepCached)
                await fadvise(this.fd, from, kickFrom - from, POSIX_FADV_DONTNEED);
            this.settled = kickFrom;
        }
    }
}
