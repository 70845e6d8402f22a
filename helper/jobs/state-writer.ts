// SPDX-License-Identifier: GPL-3.0-or-later
// Keeps a job's state file current without rewriting it for every event: at most one write per
// interval while running, and at once for the final state.
import { writeFileAtomic } from "./atomic-file.ts";
import type { JobState } from "../protocol/job-types.ts";

export const WRITE_INTERVAL_MS = 250;

export class StateWriter<S extends JobState = JobState> {
    private state: S;
    private lastWrite = 0;
    private timer: NodeJS.Timeout | undefined;

    constructor(private readonly file: string, initial: S) {
        this.state = initial;
    }

    get current(): S {
        return this.state;
    }

    /** Records a new state; written now, or when the interval since the last write has passed. */
    update(state: S): void {
        this.state = state;
        if (this.timer)
            return;
        const wait = this.lastWrite + WRITE_INTERVAL_MS - Date.now();
        if (wait <= 0)
            this.write();
        else
            this.timer = setTimeout(() => this.write(), wait);
    }

    /** Writes the current state now (the final one, or the first). */
    flush(): void {
        this.write();
    }

    private write(): void {
        if (this.timer) {
            clearTimeout(this.timer);
            this.timer = undefined;
        }
        this.lastWrite = Date.now();
        writeFileAtomic(this.file, JSON.stringify(this.state) + "\n");
    }
}
