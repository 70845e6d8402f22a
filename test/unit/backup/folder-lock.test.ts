// SPDX-License-Identifier: GPL-3.0-or-later
// The chain folder's lock between a mapping's start (shared) and a pruning or consolidation (exclusive):
// backup/folder-lock.ts, with real flock(2) in a private lock directory.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { FolderBusyError, lockFolderForMapping, lockFoldersForChange } from "../../../helper/backup/folder-lock.ts";
import { CONSOLIDATE_JOURNAL, recoverConsolidationLocked } from "../../../helper/consolidate/journal.ts";

function setup() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-folderlock-`));
    const locks = path.join(dir, "locks");
    const chain = path.join(dir, "chain");
    fs.mkdirSync(chain);
    fs.symlinkSync(chain, path.join(dir, "alias"));
    return { dir, locks, chain, alias: path.join(dir, "alias") };
}

test("mappings share the lock; a change waits for them, then excludes new ones, naming its process", async () => {
    const { dir, locks, chain, alias } = setup();
    try {
        const a = await lockFolderForMapping(chain, { dir: locks, waitMs: 0 });
        const b = await lockFolderForMapping(alias, { dir: locks, waitMs: 0 });
        await assert.rejects(lockFoldersForChange([chain], { dir: locks, waitMs: 300 }),
            (err: Error) => err instanceof FolderBusyError && /in use by a mapping being started: nothing was changed/.test(err.message));
        a.release();
        const waiting = lockFoldersForChange([chain, alias], { dir: locks, waitMs: 5_000 });  // the same folder twice: one lock
        setTimeout(() => b.release(), 200);
        const change = await waiting;
        await assert.rejects(lockFolderForMapping(alias, { dir: locks, waitMs: 300 }),
            new RegExp(`alias is being pruned or consolidated \\(process ${process.pid}\\): nothing was mapped`));
        change.release();
        change.release();  // once is enough
        (await lockFolderForMapping(chain, { dir: locks, waitMs: 0 })).release();
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("a cancelled change stops waiting; a folder that is not there needs no lock", async () => {
    const { dir, locks, chain } = setup();
    try {
        const mapping = await lockFolderForMapping(chain, { dir: locks });
        const controller = new AbortController();
        const waiting = lockFoldersForChange([chain], { dir: locks, signal: controller.signal });
        setTimeout(() => controller.abort(new Error("cancelled")), 200);
        await assert.rejects(waiting, /^Error: cancelled$/);
        mapping.release();
        const none = await lockFoldersForChange([path.join(dir, "gone")], { dir: locks, waitMs: 0 });
        (await lockFolderForMapping(path.join(dir, "gone"), { dir: locks, waitMs: 0 })).release();
        none.release();
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("a dead consolidation's roll-forward (a backup run's recovery) runs under the folder's exclusive lock: it waits for a mapping being set up", async () => {
    const { dir, locks, chain } = setup();
    try {
        assert.equal(await recoverConsolidationLocked(chain, { dir: locks, waitMs: 0 }), undefined, "nothing left: no lock needed");
        fs.writeFileSync(path.join(chain, "old.data"), "merged away");
        fs.writeFileSync(path.join(chain, CONSOLIDATE_JOURNAL), JSON.stringify({ pid: 0, moves: [], removes: ["old.data"] }));
        const mapping = await lockFolderForMapping(chain, { dir: locks, waitMs: 0 });
        let done = false;
        const recovery = recoverConsolidationLocked(chain, { dir: locks, waitMs: 5_000 }).finally(() => { done = true; });
        await new Promise(resolve => setTimeout(resolve, 300));
        assert.equal(done, false, "the roll-forward waits for the mapping being set up");
        assert.ok(fs.existsSync(path.join(chain, "old.data")));
        mapping.release();
        assert.equal(await recovery, "forward");
        assert.deepEqual(fs.readdirSync(chain), [], "the switch is finished: the merged-away file and the journal are gone");
        (await lockFolderForMapping(chain, { dir: locks, waitMs: 0 })).release();  // and the lock is free again
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
