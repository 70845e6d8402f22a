// What a run is about to create in a backup folder, written down before it creates it. A run that
// dies (SIGKILL, power loss) cannot clean up after itself; the next run on the folder reads the
// journal and removes those files, so no half-made restore point is ever taken for a whole one.
import fs from "node:fs";
import path from "node:path";
import { processAlive } from "../tools/proc.ts";
import { writeFileAtomic } from "../fs/safe-open.ts";

export const JOURNAL_NAME = ".virtnbdbackup.journal";

interface JournalData {
    pid: number;
    files: string[];
}

export class RunJournal {
    private readonly files: string[] = [];

    private constructor(private readonly file: string) {}

    /** Starts this run's journal. Returns the files a dead earlier run left, already removed. */
    static open(folder: string): { journal: RunJournal; rolledBack: string[] } {
        const file = path.join(folder, JOURNAL_NAME);
        const rolledBack = rollBack(file);
        const journal = new RunJournal(file);
        journal.save();
        return { journal, rolledBack };
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

    /** The run failed: remove everything it recorded, then the journal. Never throws. */
    rollBack(): void {
        for (const base of this.files)
            removeQuietly(path.join(path.dirname(this.file), base));
        removeQuietly(this.file);
    }

    /** The run succeeded: its files stay. */
    commit(): void {
        removeQuietly(this.file);
    }

    private save(): void {
        const data: JournalData = { pid: process.pid, files: this.files };
        writeFileAtomic(this.file, JSON.stringify(data), 0o600);
    }
}

function rollBack(file: string): string[] {
    let data: JournalData;
    try {
        data = JSON.parse(fs.readFileSync(file, "utf8")) as JournalData;
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT")
            return [];
        // Unreadable: the dead run wrote nothing else after it, so there is nothing more to remove.
        removeQuietly(file);
        return [];
    }
    if (Number.isSafeInteger(data.pid) && data.pid !== process.pid && processAlive(data.pid))
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
    removeQuietly(file);
    return removed;
}

function removeQuietly(file: string): void {
    try {
        fs.rmSync(file, { force: true });
    } catch { /* best effort */ }
}
