// The host-wide job queue: N slot files under the root-only /run/virtnbdbackup/slots, each taken with
// flock(2) by the runner of one backup job while its backup runs. The kernel lets go of a slot when its
// runner ends, however it ends, so a killed job never keeps one. A job finding all N taken waits (polling),
// and can still be cancelled meanwhile.
import fs from "node:fs";
import path from "node:path";
import { tryLock } from "fileio-node";
import { privateDir, RUN_DIR } from "../backup/run-dir.ts";

export const SLOT_DIR = path.join(RUN_DIR, "slots");
const POLL_MS = 500;

export interface Slot {
    index: number;
    release(): void;
}

/** One free slot of the first `max`, taken; null when all are taken. */
export function trySlot(max: number, dir = SLOT_DIR): Slot | null {
    privateDir(dir, 0o700);
    for (let i = 0; i < max; i++) {
        const file = path.join(dir, `slot-${i}.lock`);
        const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
        const st = fs.fstatSync(fd);
        if (!st.isFile() || st.uid !== process.geteuid!()) {
            fs.closeSync(fd);
            throw new Error(`refusing slot file ${file}: not a regular file of this process's user`);
        }
        if (tryLock(fd)) {
            let released = false;
            return { index: i, release: () => { if (!released) { released = true; fs.closeSync(fd) } } };
        }
        fs.closeSync(fd);
    }
    return null;
}

export interface WaitOptions {
    /** Read at every try: a changed setting applies to jobs already waiting. */
    max: () => number;
    /** Stop waiting (null) once this says so. */
    cancelled: () => boolean;
    /** Called once, when the first try finds no free slot. */
    onQueued?: () => void;
    dir?: string;
    pollMs?: number;
}

/** Waits for a free slot; null when cancelled first. */
export async function waitForSlot(opts: WaitOptions): Promise<Slot | null> {
    let queued = false;
    for (;;) {
        if (opts.cancelled())
            return null;
        const slot = trySlot(opts.max(), opts.dir);
        if (slot)
            return slot;
        if (!queued) {
            queued = true;
            opts.onQueued?.();
        }
        await new Promise(resolve => setTimeout(resolve, (opts.pollMs ?? POLL_MS) * (0.75 + Math.random() / 2)));
    }
}
