// SPDX-License-Identifier: GPL-3.0-or-later
// What a run (a backup, a restore) has made so far, each with how to take it back. Every step that makes
// something pushes its undo right after making it; when the run fails or is cancelled the stack unwinds
// newest first, so what was made last (a checkpoint on a job, files in a folder) goes before what it stands
// on (the folder, the lock). Steps pushed with `always` run on success too: what a run holds only while it
// runs (a lock, a log, a VM it started).

type Step = () => Promise<void> | void;

interface Entry {
    undo: Step;
    /** A synchronous version for a process that must exit at once (a second Ctrl-C): see undoNow(). */
    now?: () => void;
    always: boolean;
}

export class UndoStack {
    private entries: Entry[] = [];

    /**
     * `undo` takes back something this run made, when the run fails. Returns the function that takes the step
     * off the stack: the thing is done with (committed, or ended by the run itself).
     */
    onFailure(undo: Step, now?: () => void): () => void {
        return this.push({ undo, now, always: false });
    }

    /** `cleanup` runs however the run ends (on success after its commit). */
    always(cleanup: Step): () => void {
        return this.push({ undo: cleanup, always: true });
    }

    /**
     * Runs the steps newest first: all of them when the run failed, else only the `always` ones. Every step
     * runs even when one before it throws; then the first error is thrown. Steps that must not fail the run
     * catch (and report) their errors themselves.
     */
    async unwind(failed: boolean): Promise<void> {
        const entries = this.entries.reverse();
        this.entries = [];
        let first: { err: unknown } | undefined;
        for (const e of entries) {
            if (!failed && !e.always)
                continue;
            try {
                await e.undo();
            } catch (err) {
                first ??= { err };
            }
        }
        if (first)
            throw first.err;
    }

    /** The synchronous undos, newest first, for a process about to exit; never throws. */
    undoNow(): void {
        for (const e of [...this.entries].reverse()) {
            try {
                e.now?.();
            } catch {
                // exiting anyway
            }
        }
    }

    private push(entry: Entry): () => void {
        this.entries.push(entry);
        return () => {
            this.entries = this.entries.filter(e => e !== entry);
        };
    }
}
