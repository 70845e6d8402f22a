// SPDX-License-Identifier: GPL-3.0-or-later
// Where a run's events go: to the caller, and, once the run knows its level, into its log file in the
// backup folder (`backup.<level>.<time>.log`, one timestamped JSON line each).
import fs from "node:fs";
import { openRunLog } from "./folder.ts";
import type { BackupEvent, Note } from "./types.ts";

export class RunLog {
    private stream?: fs.WriteStream;

    constructor(private readonly emit: Note) {}

    /** The caller's events, and the log's line once it is open. */
    readonly note: Note = (e: BackupEvent) => {
        this.emit(e);
        this.stream?.write(`${new Date().toISOString()} ${JSON.stringify(e)}\n`);
    };

    open(file: string): void {
        this.stream = openRunLog(file);
        // A full disk must fail the backup through its data writes, not crash the process through the log.
        this.stream.on("error", () => {});
    }

    end(): Promise<void> {
        return new Promise<void>(resolve => this.stream ? this.stream.end(resolve) : resolve());
    }
}
