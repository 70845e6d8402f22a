// SPDX-License-Identifier: GPL-3.0-or-later
// Two builds of our CLI against the same-run floor on the benchmark's fragmented case: per round, new data in
// every extent, the floor (pull-mode export holding only those extents, nbdcopy), then one build's inc; new data
// again, the other build's inc; the order alternates. Medians, page cache as the flags say; each inc's CPU (user +
// system, with the processes it waited for) and peak RSS from GNU time.
//   node --import tsx bench/experiments/fragmented-ab.ts --old=<copy of an older dist/helper> [--case=4000] [--runs=7] [--drop] [-z]
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

const arg = (name: string) => process.argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const s = (ms: number) => (ms / 1000).toFixed(2);

async function main() {
    cleanupOnSignals();
    const c = FRAGMENTED_FULL.find(x => x.name.includes(arg("case") ?? "4000"))!;
    const runs = Number(arg("runs") ?? 7);
    const compress = process.argv.includes("-z");
    const drop = process.argv.includes("--drop");
    const old = arg("old");
    if (!old)
        throw new Error("--old=<dir> is required");
    onCleanup("libvirtd", await ensureLibvirtd());
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-fragab-`));
    onCleanup("work", () => fs.rmSync(work, { recursive: true, force: true }));
    await snapshotOurClis(work);
    const builds: Record<string, string> = { old: path.join(old, "virtnbdbackup.js"), new: ourCli("virtnbdbackup") };
    const vm = await TestVm.create({ disks: [{ size: c.diskSize }] });
    onCleanup("VM", () => vm.cleanup());
    const chain = path.join(work, "chain");
    const cli = (build: string, level: string) => [builds[build]!, "-d", vm.name, "-l", level, "-o", chain, "--noprogress", ...(compress ? ["-z"] : [])];
    // The files themselves, as users run them: their first line gives node its options and drops
    // NODE_EXTRA_CA_CERTS (set to a CA bundle, node would parse it first: 50-90 ms of each start).
    await runOk(cli("new", "full")[0]!, cli("new", "full").slice(1));
    const times: Record<string, number[]> = { floor: [], old: [], new: [] };
    const cpu: Record<string, number[]> = { old: [], new: [] };
    const rss: Record<string, number[]> = { old: [], new: [] };
    const timeFile = path.join(work, "time");
    for (let r = 0; r < runs; r++) {
        for (const build of r % 2 === 0 ? ["old", "new"] : ["new", "old"]) {
            await dirtyExtents(vm, c);
            if (build === (r % 2 === 0 ? "old" : "new")) {
                if (drop) await dropCaches();
                const job = await startPullJob(vm.name, "vda", work);
                const f0 = performance.now();
                await runOk("nbdcopy", [job.uri, path.join(work, "floor.raw")]);
                const copy = performance.now() - f0;
                times.floor!.push(job.beginMs + copy + await job.stop());
                fs.rmSync(path.join(work, "floor.raw"));
            }
            if (drop) await dropCaches();
            const t0 = performance.now();
            // GNU time: CPU (user + system) of the run and what it waited for, and its peak RSS.
            await runOk("/usr/bin/time", ["-f", "%U %S %M", "-o", timeFile, ...cli(build, "inc")]);
            times[build]!.push(performance.now() - t0);
            const [user, sys, rssKiB] = fs.readFileSync(timeFile, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
            cpu[build]!.push(user! + sys!);
            rss[build]!.push(rssKiB! / 1024);
        }
        console.error(`round ${r + 1}: floor ${s(times.floor!.at(-1)!)} old ${s(times.old!.at(-1)!)} new ${s(times.new!.at(-1)!)}`);
    }
    const f = median(times.floor!);
    console.log(`${c.name}${compress ? " -z" : ""}${drop ? ", page cache dropped" : ", warm"}, ${runs} rounds: floor ${s(f)} s; ` +
        `old ${s(median(times.old!))} s (${(median(times.old!) / f).toFixed(2)}×); new ${s(median(times.new!))} s (${(median(times.new!) / f).toFixed(2)}×)`);
    for (const build of ["old", "new"])
        console.log(`  ${build}: CPU median ${median(cpu[build]!).toFixed(2)} s (${cpu[build]!.map(x => x.toFixed(2)).join(", ")}), peak RSS max ${Math.max(...rss[build]!).toFixed(0)} MB`);
    await deleteAllCheckpoints(vm.name);
}

main().then(() => cleanupAll(), async err => {
    console.error(err);
    await cleanupAll();
    process.exitCode = 1;
});
