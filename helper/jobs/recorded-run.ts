// SPDX-License-Identifier: GPL-3.0-or-later
// The history record of a job that runs inside a helper command (verify, prune, delete-chain): a record
// and log around the work, ended with what it gave or the error it threw. Never fails the work itself.
import type { HistoryEnd, HistoryStart } from "./history-record.ts";
import { HistoryRun, HISTORY_DIR, newRunId } from "./history.ts";

export interface RunLog {
    line(text: string): void;
}

/** `start.startedAt`: when the work began, if before this call (a run recorded once its outcome is known). */
export async function recordedRun<T>(uuid: string, start: Omit<HistoryStart, "id" | "startedAt"> & { startedAt?: number }, work: (log: RunLog) => Promise<T>,
                                     ending: (value: T) => Omit<HistoryEnd, "endedAt" | "seconds">, dir = HISTORY_DIR): Promise<T> {
    const startedAt = start.startedAt ?? Date.now();
    let run: HistoryRun | undefined;
    const quietly = (write: () => void) => {
        try {
            write();
        } catch (err) {
            process.stderr.write(`helper: the job's history: ${err instanceof Error ? err.message : String(err)}\n`);
        }
    };
    quietly(() => { run = HistoryRun.open(uuid, { ...start, id: newRunId(startedAt), startedAt }, dir) });
    const log: RunLog = { line: text => quietly(() => run?.log(`${new Date().toISOString().slice(11, 19)} ${text}`)) };
    const seconds = () => (Date.now() - startedAt) / 1000;
    let value: T;
    try {
        value = await work(log);
    } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        log.line(`failed: ${message}`);
        quietly(() => run?.end({ result: "failed", endedAt: Date.now(), seconds: seconds(), error: message }));
        throw err;
    }
    quietly(() => run?.end({ ...ending(value), endedAt: Date.now(), seconds: seconds() }));
    return value;
}
