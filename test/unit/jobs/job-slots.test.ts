// SPDX-License-Identifier: GPL-3.0-or-later
// The host-wide job queue in a temporary folder: free slots go to waiting jobs in order of arrival, a
// ticket left by a killed job does not block the queue, a cancelled wait leaves no ticket.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freeSlots, takeTicket, trySlot, waitForSlot, waitingTickets, type Slot } from "../../../helper/jobs/job-slots.ts";

function tempDir(): string {
    return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-slots-")), "slots");
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

describe("job queue", () => {
    test("free slots go to the waiting jobs in order of arrival", async () => {
        const dir = tempDir();
        const first = trySlot(1, dir)!;
        const order: number[] = [];
        const waiters: Promise<void>[] = [];
        for (let i = 0; i < 6; i++) {
            waiters.push(waitForSlot({ max: () => 1, cancelled: () => false, dir, pollMs: 10 }).then(async slot => {
                order.push(i);
                await sleep(15);
                slot!.release();
            }));
            await sleep(2);
        }
        assert.equal(waitingTickets(dir).length, 6, "six waiting jobs hold a ticket each");
        first.release();
        await Promise.all(waiters);
        assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
        assert.deepEqual(fs.readdirSync(path.join(dir, "tickets")), [], "every ticket is gone");
    });

    test("with N slots, N jobs run at once; the next one waits", async () => {
        const dir = tempDir();
        const got: Slot[] = [];
        for (let i = 0; i < 3; i++)
            got.push((await waitForSlot({ max: () => 3, cancelled: () => false, dir, pollMs: 10 }))!);
        assert.deepEqual(got.map(s => s.index).sort(), [0, 1, 2]);
        assert.equal(freeSlots(3, dir), 0);
        let queued = false;
        const fourth = waitForSlot({ max: () => 3, cancelled: () => false, dir, pollMs: 10, onQueued: () => { queued = true } });
        await sleep(50);
        assert.ok(queued, "the fourth job waits");
        got[1]!.release();
        assert.equal((await fourth)!.index, 1);
    });

    test("a ticket nobody holds (its job was killed) is removed and does not block", async () => {
        const dir = tempDir();
        const killed = takeTicket(dir);
        // As if its process died: the lock goes, the file stays.
        const file = path.join(dir, "tickets", killed.name);
        fs.copyFileSync(file, `${file}.keep`);
        killed.drop();
        fs.renameSync(`${file}.keep`, file);
        const slot = await waitForSlot({ max: () => 1, cancelled: () => false, dir, pollMs: 10 });
        assert.equal(slot!.index, 0);
        assert.ok(!fs.existsSync(file), "the dead job's ticket is gone");
    });

    test("a cancelled wait gives null and leaves no ticket", async () => {
        const dir = tempDir();
        const held = trySlot(1, dir)!;
        let cancel = false;
        const waiting = waitForSlot({ max: () => 1, cancelled: () => cancel, dir, pollMs: 10 });
        await sleep(30);
        cancel = true;
        assert.equal(await waiting, null);
        assert.deepEqual(fs.readdirSync(path.join(dir, "tickets")), []);
        held.release();
    });
});
