// SPDX-License-Identifier: GPL-3.0-or-later
// Where does a fragmented incremental's time go? A VM with a blank disk gets N scattered small writes (the
// benchmark's fragmented case), then our inc runs under `node --cpu-prof` (main thread self times) beside the
// floor (nbdcopy of a pull-mode export holding only those extents), alternating, page cache warm or dropped.
//   node --import tsx bench/experiments/fragmented-profile.ts [--case=4000] [--runs=3] [--drop] [-z]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runOk } from "../../test/lib/exec.ts";
import { ensureLibvirtd } from "../../test/lib/libvirtd.ts";
import { TestVm } from "../../test/lib/vm.ts";
import { cleanupAll, cleanupOnSignals, onCleanup } from "../lib/cleanup.ts";
import { dirtyExtents, FRAGMENTED_FULL } from "../lib/fragmented.ts";
import { dropCaches } from "../lib/host.ts";
import { startPullJob } from "../lib/pull-job.ts";
import { deleteAllCheckpoints, ourCli, snapshotOurClis } from "../lib/tools.ts";
import { selfTimes, type Profile } from "../lib/cpu-profile.ts";

const arg = (name: string) => process.argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3);

async function main() {
    cleanupOnSignals();
    const c = FRAGMENTED_FULL.find(x => x.name.includes(arg("case") ?? "4000"))!;
    const runs = Number(arg("runs") ?? 3);
    const compress = process.argv.includes("-z");
    const drop = process.argv.includes("--drop");
    onCleanup("libvirtd", await ensureLibvirtd());
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-fragprof-`));
    onCleanup("work", () => fs.rmSync(work, { recursive: true, force: true }));
    await snapshotOurClis(work);
    const vm = await TestVm.create({ disks: [{ size: c.diskSize }] });
    onCleanup("VM", () => vm.cleanup());
    const chain = path.join(work, "chain");
    const cli = (level: string, prof: string[] = []) => [...prof, ourCli("virtnbdbackup"), "-d", vm.name, "-l", level, "-o", chain, "--noprogress", ...(compress ? ["-z"] : [])];
    await runOk(process.execPath, cli("full"));
    for (let r = 0; r < runs; r++) {
        await dirtyExtents(vm, c);
        if (drop) await dropCaches();
        const job = await startPullJob(vm.name, "vda", work);
        const f0 = performance.now();
        await runOk("nbdcopy", [job.uri, path.join(work, "floor.raw")]);
        const floorCopy = performance.now() - f0;
        const abortMs = await job.stop();
        fs.rmSync(path.join(work, "floor.raw"));
        const floor = job.beginMs + floorCopy + abortMs;
        if (drop) await dropCaches();
        const profDir = path.join(work, `prof-${r}`);
        const t0 = performance.now();
        await runOk(process.execPath, cli("inc", ["--cpu-prof", "--cpu-prof-dir", profDir]));
        const wall = performance.now() - t0;
        // The same without the profiler, and an inc with nothing dirty: the fixed cost of a run.
        await dirtyExtents(vm, c);
        if (drop) await dropCaches();
        const t1 = performance.now();
        await runOk(process.execPath, cli("inc"));
        const plain = performance.now() - t1;
        if (drop) await dropCaches();
        const t2 = performance.now();
        await runOk(process.execPath, cli("inc"));
        const empty = performance.now() - t2;
        console.log(`\nfloor ${(floor / 1000).toFixed(2)} s; ours inc ${(plain / 1000).toFixed(2)} s (${(plain / floor).toFixed(2)}×), inc with nothing dirty ${(empty / 1000).toFixed(2)} s: copy ${((plain - empty) / 1000).toFixed(2)} s against nbdcopy's ${(floorCopy / 1000).toFixed(2)} s`);
        const file = fs.readdirSync(profDir).find(f => f.endsWith(".cpuprofile"))!;
        const profile = JSON.parse(fs.readFileSync(path.join(profDir, file), "utf8")) as Profile;
        const rows = selfTimes(profile);
        const span = (profile.endTime - profile.startTime) / 1000;
        const idle = rows.filter(([k]) => k.startsWith("(idle)")).reduce((s, [, v]) => s + v, 0);
        console.log(`\n${c.name}${compress ? " -z" : ""}: floor ${(floor / 1000).toFixed(2)} s (copy ${(floorCopy / 1000).toFixed(2)} s), ours inc (profiled) ${(wall / 1000).toFixed(2)} s = ${(wall / floor).toFixed(2)}×, main thread busy ${((span - idle) / 1000).toFixed(2)} s of ${(span / 1000).toFixed(2)} s`);
        for (const [key, ms] of rows.slice(0, 14))
            console.log(`| ${ms.toFixed(0)} | ${key} |`);
    }
    await deleteAllCheckpoints(vm.name);
}

main().then(() => cleanupAll(), async err => {
    console.error(err);
    await cleanupAll();
    process.exitCode = 1;
});
