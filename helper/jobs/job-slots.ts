// SPDX-License-Identifier: GPL-3.0-or-later
// The host-wide job queue: N slot files under the root-only /run/virtnbdbackup/slots, each taken with
// flock(2) by the runner of one backup job while its backup runs. The kernel lets go of a slot when its
// runner ends, however it ends, so a killed job never keeps one. A job finding all N taken waits (polling),
// and can still be cancelled meanwhile.
//
// Waiting jobs get free slots in order of arrival: each job takes a ticket first (a file in slots/tickets
// named by the monotonic clock at its arrival, flock'ed by its owner while it waits) and tries for a slot
// only while fewer tickets are ahead of it than slots are free. A ticket nobody holds any more (its job was
// killed while waiting) is removed by the next job that looks.
import fs from "node:fs";
import path from "node:path";
import { tryLock } from "fileio-node";
import { privateDir, RUN_DIR } from "../backup/run-dir.ts";

export const SLOT_DIR = path.join(RUN_DIR, "slots");
// A waiting job looks this often: a freed slot is taken within about this time (a readdir and a few opens each).
const POLL_MS = 100;
/** "<20-digit CLOCK_MONOTONIC ns>-<pid>": sorts by arrival (the clock is the same for every process). */
const TICKET_NAME = /^\d{20}-\d+$/;
const NEW_TICKET = /^\.new-\d{20}-\d+$/;

export interface Slot {
    index: number;
    release(): void;
}

const { O_RDWR, O_RDONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;

/** Opens (making it) a file of ours in the root-only folder; refuses anything else. */
function openOwn(file: string, flags: number): number {
    const fd = fs.openSync(file, flags | O_NOFOLLOW, 0o600);
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== process.geteuid!()) {
        fs.closeSync(fd);
        throw new Error(`refusing queue file ${file}: not a regular file of this process's user`);
    }
    return fd;
}

/** Whether someone holds the lock of `file` (a missing file is held by nobody). */
function held(file: string): boolean {
    let fd: number;
    try {
        fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW);
    } catch {
        return false;
    }
    try {
        return !tryLock(fd);
    } finally {
        fs.closeSync(fd);
    }
}

/** One free slot of the first `max`, taken; null when all are taken. */
export function trySlot(max: number, dir = SLOT_DIR): Slot | null {
    privateDir(dir, 0o700);
    for (let i = 0; i < max; i++) {
        const fd = openOwn(path.join(dir, `slot-${i}.lock`), O_RDWR | O_CREAT);
        if (tryLock(fd)) {
            let released = false;
            return { index: i, release: () => { if (!released) { released = true; fs.closeSync(fd) } } };
        }
        fs.closeSync(fd);
    }
    return null;
}

/** How many of the first `max` slots nobody holds now. */
export function freeSlots(max: number, dir = SLOT_DIR): number {
    let free = 0;
    for (let i = 0; i < max; i++)
        free += held(path.join(dir, `slot-${i}.lock`)) ? 0 : 1;
    return free;
}

/** A waiting job's place in the queue, held until drop(). */
export interface Ticket {
    name: string;
    drop(): void;
}

/** Takes a ticket: made and locked under a temporary name, then renamed, so nobody sees it unheld. */
export function takeTicket(dir = SLOT_DIR): Ticket {
    const tickets = privateDir(path.join(privateDir(dir, 0o700), "tickets"), 0o700);
    const name = `${process.hrtime.bigint().toString().padStart(20, "0")}-${process.pid}`;
    const fresh = path.join(tickets, `.new-${name}`);
    const fd = openOwn(fresh, O_RDWR | O_CREAT | O_EXCL);
    tryLock(fd);  // a file just made: nobody else has it open
    fs.renameSync(fresh, path.join(tickets, name));
    let dropped = false;
    return {
        name,
        drop: () => {
            if (dropped)
                return;
            dropped = true;
            fs.rmSync(path.join(tickets, name), { force: true });
            fs.closeSync(fd);
        },
    };
}

/** A ticket still under its temporary name a minute on: its job died between making and renaming it. */
function abandoned(file: string): boolean {
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    return st !== undefined && Date.now() - st.mtimeMs > 60_000;
}

/** The tickets of jobs still waiting, oldest first; those of jobs gone are removed. */
export function waitingTickets(dir = SLOT_DIR): string[] {
    const tickets = path.join(dir, "tickets");
    const live: string[] = [];
    for (const name of fs.readdirSync(tickets).sort()) {
        if (!TICKET_NAME.test(name) && !NEW_TICKET.test(name))
            continue;
        const file = path.join(tickets, name);
        if (held(file)) {
            if (TICKET_NAME.test(name))
                live.push(name);
        } else if (TICKET_NAME.test(name) || abandoned(file)) {
            fs.rmSync(file, { force: true });
        }
    }
    return live;
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

/** Waits for a free slot, behind the jobs that came first; null when cancelled first. */
export async function waitForSlot(opts: WaitOptions): Promise<Slot | null> {
    const dir = opts.dir ?? SLOT_DIR;
    const ticket = takeTicket(dir);
    let queued = false;
    try {
        for (;;) {
            if (opts.cancelled())
                return null;
            const max = opts.max();
            const ahead = waitingTickets(dir).indexOf(ticket.name);
            const slot = ahead < freeSlots(max, dir) ? trySlot(max, dir) : null;
            if (slot)
                return slot;
            if (!queued) {
                queued = true;
                opts.onQueued?.();
            }
            await new Promise(resolve => setTimeout(resolve, (opts.pollMs ?? POLL_MS) * (0.75 + Math.random() / 2)));
        }
    } finally {
        ticket.drop();
    }
}
