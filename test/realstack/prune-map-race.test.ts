// SPDX-License-Identifier: GPL-3.0-or-later
// A mapping that starts while a pruning or consolidation changes the same chain (backup/folder-lock.ts), with
// real processes on real libvirt-made backups: a mapping started while the folder's exclusive lock is held
// (as a pruning holds it from its in-use check to its last removal) waits, and is refused with a clear message
// when the change goes on; started just before the change ends, it maps the folder as it is afterwards.
// Then real `helper delete-chain --yes` runs against real `virtnbdmap` starts at random moments: never both
// succeed (a live mapping whose files were removed), and whatever mapping lives reads exactly the point.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { run } from "../lib/exec.ts";
import type { TestVm } from "../lib/vm.ts";
import { ourBackupOk, ourCli } from "../lib/backup-cli.ts";
import { startMap, type RunningMap } from "../lib/map-cli.ts";
import { lockFoldersForChange } from "../../helper/backup/folder-lock.ts";
import { testBed } from "../lib/test-bed.ts";

const HELPER = path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");

const bed = testBed({ name: "prune-map-race" });
let vm: TestVm;
let work = "";
let folder = "";
let pristine = "";
let expected = "";

bed.before(async () => {
    work = bed.work;
    folder = path.join(work, "backups");
    vm = await bed.vm({ disks: [{ size: "48M", writes: [{ offset: "1M", length: "6M", random: true, seed: 11 }] }] });
    // The first chain (the folder itself): a full and an incremental; then a second chain, the newest.
    await ourBackupOk(["-d", vm.name, "-l", "full", "-o", folder]);
    await vm.write(0, { offset: "20M", length: "4M", random: true, seed: 12 });
    await vm.write(0, { offset: "2M", length: "1M", zero: true });
    await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", folder]);
    expected = await vm.snapshotExpected(0, "p1");
    await vm.write(0, { offset: "30M", length: "2M", pattern: 0x3c });
    await ourBackupOk(["-d", vm.name, "-l", "full", "-o", path.join(folder, "chain-2")]);
    const set = await run(process.execPath, [HELPER, "set-settings", "--domain", vm.name, "--folder", folder, "--schedule", "off"]);
    assert.equal(set.code, 0, set.stderr);
    // The first chain's files, to put back after each removal.
    pristine = path.join(work, "pristine");
    fs.mkdirSync(pristine);
    for (const name of chainFiles())
        fs.copyFileSync(path.join(folder, name), path.join(pristine, name));
});

/** The plain files of the first chain (the folder itself). */
function chainFiles(): string[] {
    return fs.readdirSync(folder).filter(n => fs.statSync(path.join(folder, n)).isFile()).sort();
}

function restoreFirstChain(): void {
    for (const name of fs.readdirSync(pristine)) {
        const to = path.join(folder, name);
        if (!fs.existsSync(to)) {
            fs.copyFileSync(path.join(pristine, name), to);
            const st = fs.statSync(path.join(pristine, name));
            fs.utimesSync(to, st.atime, st.mtime);
        }
    }
}

async function comparePoint(map: RunningMap): Promise<string> {
    const r = await run("qemu-img", ["compare", "-f", "raw", "-F", "raw", map.disks[0].uri, expected]);
    return r.code === 0 ? "identical" : (r.stdout + r.stderr).trim();
}

test("a mapping started while the folder is being changed waits, then is refused naming the change; one started as it ends maps what is left", async () => {
    const lock = await lockFoldersForChange([folder]);
    let released = false;
    try {
        const started = Date.now();
        await assert.rejects(startMap(["-i", folder, "-u", "virtnbdbackup.1"]),
            new RegExp(`is being pruned or consolidated \\(process ${process.pid}\\): nothing was mapped; try again when that has ended`));
        assert.ok(Date.now() - started >= 4_000, "it waited for the change to end first");

        // The change ends while the mapping waits: it maps (the files are all there: nothing was removed).
        const waiting = startMap(["-i", folder, "-u", "virtnbdbackup.1"]);
        await new Promise(resolve => setTimeout(resolve, 1_000));
        lock.release();
        released = true;
        const map = await waiting;
        try {
            assert.equal(await comparePoint(map), "identical");
            // Now live, its files are in use: the removal is refused and removes nothing.
            const before = chainFiles();
            const del = await run(process.execPath, [HELPER, "delete-chain", "--domain", vm.name, "--chain", "", "--yes"]);
            assert.notEqual(del.code, 0);
            assert.match(del.stderr, /virtnbdmap \(process \d+\) reads the chain in the folder itself: nothing was changed/);
            assert.deepEqual(chainFiles(), before);
        } finally {
            assert.equal(await map.stop(), 0);
        }
    } finally {
        if (!released)
            lock.release();
    }
});

test("a real removal and real mapping starts at random moments: never a live mapping of removed files", { timeout: 600_000 }, async () => {
    const outcomes = { mappedFirst: 0, removedFirst: 0 };
    for (let round = 0; round < 10; round++) {
        restoreFirstChain();
        // Either starts first, by up to a second (the helper takes longer to start than virtnbdmap).
        const lead = Math.floor(Math.random() * 1600) - 1200;
        const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
        const removal = sleep(Math.max(0, lead)).then(() => run(process.execPath, [HELPER, "delete-chain", "--domain", vm.name, "--chain", "", "--yes"]));
        await sleep(Math.max(0, -lead));
        const mapping = startMap(["-i", folder, "-u", "virtnbdbackup.1"]).then(m => m, (err: Error) => err);
        const [del, map] = await Promise.all([removal, mapping]);
        try {
            if (map instanceof Error) {
                // Removed first: the mapping found the point gone (or was turned away while it went).
                assert.equal(del.code, 0, `neither worked: ${del.stderr} / ${map.message}`);
                assert.match(map.message, /virtnbdbackup\.1|being pruned|no such file|ENOENT|not found|no backup/i);
                outcomes.removedFirst++;
            } else {
                // Mapped first: the removal saw it and removed nothing; the mapping reads the point exactly.
                assert.notEqual(del.code, 0, `removed while mapped: ${del.stdout}`);
                assert.match(del.stderr, /reads the chain in the folder itself: nothing was changed/);
                for (const file of map.disks[0].files)
                    assert.ok(fs.existsSync(path.join(folder, file)), `${file} of the live mapping is there`);
                assert.equal(await comparePoint(map), "identical");
                outcomes.mappedFirst++;
            }
        } finally {
            if (!(map instanceof Error))
                await map.stop();
        }
    }
    console.log(`# outcomes: ${JSON.stringify(outcomes)}`);
});
