// SPDX-License-Identifier: GPL-3.0-or-later
// One chain, two tools: an admin moving from the Python virtnbdbackup to ours (or back) keeps the chain going
// without a new full. Each tool's incremental builds on the other's backups, and every restore point restores
// exactly with ours and with the real virtnbdrestore. (The real one restores past --until when a disk's file at
// that point holds no data — it skips the file and with it the check — so it is asked only for points where
// every disk changed; ours is asked for every point.)
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { runOk } from "../lib/exec.ts";
import { compareImages, TestVm, type Write } from "../lib/vm.ts";
import { listFolder, ourBackupOk, ourRestoreOk, pyRestore, PY_BACKUP } from "../lib/backup-cli.ts";
import { testBed } from "../lib/test-bed.ts";

const bed = testBed({ name: "mixed", everyVm: true });
let tmp = "";

bed.before(() => {
    tmp = bed.work;
});

type Tool = "python" | "ours";

async function backup(tool: Tool, vm: TestVm, level: string, dir: string, compress: boolean): Promise<void> {
    const args = ["-d", vm.name, "-l", level, "-o", dir, ...(compress ? ["-z"] : [])];
    if (tool === "python")
        await runOk(PY_BACKUP, [...args, "-n"], { timeoutMs: 300_000 });
    else
        await ourBackupOk(args);
}

/** A step of the chain: writes into the running VM, then a backup by one of the tools. */
interface Step { tool: Tool; level: string; writes: [number, Write][] }

interface Point {
    checkpoint: string;
    /** Expected image of every disk at this point. */
    expected: string[];
    /** Every disk has data in its file of this point (the real virtnbdrestore's --until needs that). */
    everyDiskChanged: boolean;
}

/** Runs the steps; returns each restore point. */
async function buildChain(vm: TestVm, dir: string, steps: Step[], compress: (i: number) => boolean) {
    const points: Point[] = [];
    for (const [i, step] of steps.entries()) {
        for (const [disk, w] of step.writes)
            await vm.write(disk, w);
        await backup(step.tool, vm, step.level, dir, compress(i));
        const expected = await Promise.all(vm.disks.map((_, d) => vm.snapshotExpected(d, `${path.basename(dir)}-${i}`)));
        const everyDiskChanged = i === 0 || vm.disks.every((_, d) => step.writes.some(([disk]) => disk === d));
        points.push({ checkpoint: `virtnbdbackup.${i}`, expected, everyDiskChanged });
    }
    return points;
}

async function checkEveryPoint(vm: TestVm, dir: string, points: Point[]) {
    assert.ok(points.filter(p => p.everyDiskChanged).length >= 3, "the real virtnbdrestore checks most points");
    for (const point of points) {
        for (const restorer of point.everyDiskChanged ? ["python", "ours"] as const : ["ours"] as const) {
            const out = path.join(tmp, `${path.basename(dir)}-${point.checkpoint}-${restorer}`);
            const args = ["-i", dir, "-o", out, "--until", point.checkpoint];
            if (restorer === "python")
                await pyRestore(args);
            else
                await ourRestoreOk(args);
            for (const [d, disk] of vm.disks.entries()) {
                const result = await compareImages(path.join(out, path.basename(disk.path)), point.expected[d]);
                assert.ok(result.identical, `${point.checkpoint}, ${disk.dev}, restored by ${restorer}: ${result.output} (folder: ${listFolder(dir).join(" ")})`);
            }
            fs.rmSync(out, { recursive: true, force: true });
        }
    }
}

const twoDisks = () => TestVm.create({
    disks: [
        { size: "96M", writes: [{ offset: "0", length: "12M", random: true, seed: 3 }, { offset: "60M", length: "2M", text: "mixed chain " }] },
        { size: "32M", writes: [{ offset: "1M", length: "3M", pattern: 0x44 }] },
    ],
});

test("a Python full and inc continued by ours, then by Python again: every point restores exactly with both restorers", async () => {
    const vm = await twoDisks();
    const dir = path.join(tmp, "py-first");
    const points = await buildChain(vm, dir, [
        { tool: "python", level: "full", writes: [] },
        { tool: "python", level: "inc", writes: [[0, { offset: "4M", length: "1M", pattern: 0x61 }], [1, { offset: "8M", length: "1M", random: true, seed: 4 }]] },
        { tool: "ours", level: "inc", writes: [[0, { offset: "30M", length: "3M", random: true, seed: 9 }], [1, { offset: "2M", length: "512K", zero: true }]] },
        { tool: "python", level: "inc", writes: [[0, { offset: "4M", length: "64K", zero: true }], [1, { offset: "20M", length: "1M", pattern: 0x7e }]] },
        { tool: "ours", level: "inc", writes: [[0, { offset: "80M", length: "2M", pattern: 0x19 }]] },
    ], () => false);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, `${vm.name}.cpt`), "utf8")), points.map(p => p.checkpoint));
    assert.ok(listFolder(dir).includes("vda.inc.virtnbdbackup.4.data"));
    await checkEveryPoint(vm, dir, points);
    await vm.cleanup();
});

test("our lz4 full continued by Python's incs and ours: every point restores exactly with both restorers", async () => {
    const vm = await twoDisks();
    const dir = path.join(tmp, "ours-first");
    const points = await buildChain(vm, dir, [
        { tool: "ours", level: "full", writes: [] },
        { tool: "python", level: "inc", writes: [[0, { offset: "10M", length: "2M", random: true, seed: 21 }], [1, { offset: "30M", length: "1M", pattern: 0x2b }]] },
        { tool: "ours", level: "inc", writes: [[1, { offset: "0", length: "1M", pattern: 0x0f }], [0, { offset: "11M", length: "128K", zero: true }]] },
        { tool: "python", level: "inc", writes: [[0, { offset: "50M", length: "4M", text: "second half " }], [1, { offset: "5M", length: "64K", zero: true }]] },
    ], i => i % 2 === 0);
    await checkEveryPoint(vm, dir, points);
    await vm.cleanup();
});
