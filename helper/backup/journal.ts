// SPDX-License-Identifier: GPL-3.0-or-later
// What a run is about to create in a backup folder, written down before it creates it. A run that
// dies (SIGKILL, power loss) cannot clean up after itself; the next run on the folder reads the
// journal and removes those files, so no half-made restore point is ever taken for a whole one.
import fs from "node:fs";
import path from "node:path";
import { otherNamespaceMessage, pidNsField, processLiveness } from "../tools/proc.ts";
import { writeFileAtomic } from "../fs/safe-open.ts";

export const JOURNAL_NAME = ".virtnbdbackup.journal";

interface JournalData {
    pid: number;
    /** The run's PID namespace (tools/proc.ts; absent in journals of older versions). */
    pidNs?: number;
    files: string[];
    /** The checkpoint the run is about to create, and the token its description carries. */
    checkpoint?: JournalCheckpoint;
    /** Files the run replaces (the checkpoint list), with the content to put back: null, none was there. */
    replaced?: { name: string; previous: string | null }[];
}

/** A checkpoint a run creates: its libvirt description carries the token (ownership.ts checkpointDescription). */
export interface JournalCheckpoint {
    name: string;
    token: string;
}

export class RunJournal {
    private readonly files: string[] = [];
    private readonly replaced: { name: string; previous: string | null }[] = [];
    private checkpoint?: JournalCheckpoint;

    private constructor(private readonly file: string) {}

    /**
     * Starts this run's journal. Returns the files a dead earlier run left, already removed, and the
     * checkpoint it was creating (it may exist in libvirt: the caller deletes it once it sees the token).
     */
    static open(folder: string): { journal: RunJournal; rolledBack: string[]; deadCheckpoint?: JournalCheckpoint } {
        const file = path.join(folder, JOURNAL_NAME);
        const { removed: rolledBack, checkpoint: deadCheckpoint } = rollBack(file);
        const journal = new RunJournal(file);
        journal.save();
        return { journal, rolledBack, deadCheckpoint };
    }

    /** Records the checkpoint the run is about to create (before the job that creates it starts). */
    setCheckpoint(checkpoint: JournalCheckpoint): void {
        this.checkpoint = checkpoint;
        this.save();
    }

    /**
     * Records files (base names or paths inside the folder) before they are created. A file that already
     * exists belongs to an earlier backup: it is refused, never recorded (a rollback would delete it).
     */
    add(...names: string[]): void {
        const dir = path.dirname(this.file);
        for (const n of names) {
            const base = path.basename(n);
            if (this.files.includes(base))
                continue;
            if (fs.existsSync(path.join(dir, base)))
                throw new Error(`${base} already exists in the backup folder: refusing to overwrite it`);
            this.files.push(base);
        }
        this.save();
    }

    /**
     * Records the content of a file the run is about to replace (base name inside the folder): until the
     * run commits, its new content is part of the run and a rollback puts the old one back. The checkpoint
     * list is written before the commit; a run killed in between must not leave it naming a checkpoint
     * whose files were rolled back (the next inc would build on it).
     */
    willReplace(name: string): void {
        const base = path.basename(name);
        if (this.replaced.some(r => r.name === base))
            return;
        this.replaced.push({ name: base, previous: readIfThere(path.join(path.dirname(this.file), base)) });
        this.save();
    }

    /** The run failed: remove everything it recorded, put back what it replaced, then the journal. Never throws. */
    rollBack(): void {
        for (const base of this.files)
            removeQuietly(path.join(path.dirname(this.file), base));
        putBack(path.dirname(this.file), this.replaced);
        removeQuietly(this.file);
    }

    /** The run succeeded: its files stay. */
    commit(): void {
        removeQuietly(this.file);
    }

    private save(): void {
        const data: JournalData = { pid: process.pid, ...pidNsField(), files: this.files, checkpoint: this.checkpoint, replaced: this.replaced };
        writeFileAtomic(this.file, JSON.stringify(data), 0o600);
    }
}

function rollBack(file: string): { removed: string[]; checkpoint?: JournalCheckpoint } {
    let data: JournalData;
    try {
        data = JSON.parse(fs.readFileSync(file, "utf8")) as JournalData;
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT")
            return { removed: [] };
        // Unreadable: the dead run wrote nothing else after it, so there is nothing more to remove.
        removeQuietly(file);
        return { removed: [] };
    }
    const writer = { pid: data.pid, pidNs: data.pidNs };
    const liveness = processLiveness(writer);
    if (liveness === "other-namespace")
        throw new Error(otherNamespaceMessage(`the backup journal of ${path.dirname(file)}`, writer));
    if (liveness === "running" && data.pid !== process.pid)
        throw new Error(`another backup run (process ${data.pid}) is writing to this folder`);
    const removed: string[] = [];
    for (const base of Array.isArray(data.files) ? data.files : []) {
        // Only plain names inside the folder: the journal is not trusted to point elsewhere.
        if (typeof base !== "string" || base !== path.basename(base) || base.startsWith("."))
            continue;
        const target = path.join(path.dirname(file), base);
        if (fs.existsSync(target)) {
            removeQuietly(target);
            removed.push(base);
        }
    }
    putBack(path.dirname(file), Array.isArray(data.replaced) ? data.replaced : []);
    removeQuietly(file);
    const c = data.checkpoint;
    const checkpoint = c && typeof c.name === "string" && typeof c.token === "string" ? { name: c.name, token: c.token } : undefined;
    return { removed, checkpoint };
}

function readIfThere(file: string): string | null {
    try {
        return fs.readFileSync(file, "utf8");
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT")
            return null;
        throw err;
    }
}

/** Puts back the content replaced files had (plain names inside the folder only). Never throws. */
function putBack(dir: string, replaced: { name: string; previous: string | null }[]): void {
    for (const r of replaced) {
        if (typeof r?.name !== "string" || r.name !== path.basename(r.name) || r.name.startsWith("."))
            continue;
        const target = path.join(dir, r.name);
        try {
            if (typeof r.previous === "string") {
                if (readIfThere(target) !== r.previous)
                    writeFileAtomic(target, r.previous, 0o600);
            } else {
                removeQuietly(target);
            }
        } catch { /* best effort, like the removals */ }
    }
}

function removeQuietly(file: string): void {
    try {
        fs.rmSync(file, { force: true });
    } catch { /* best effort */ }
}
