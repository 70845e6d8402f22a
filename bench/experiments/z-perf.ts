// SPDX-License-Identifier: GPL-3.0-or-later
// Where a fragmented `-z` inc's CPU goes, per thread (thread-times.cjs) and, with --perf=1, by thread and library
// under perf (first round); QEMU's CPU beside, the floor (nbdcopy) first in each round. Modes per round: z (as
// built), z<n> (UV_THREADPOOL_SIZE=n), plain. Session 12 found the 4-at-once compressions with it (experiments §16).
//   node --import tsx bench/experiments/z-perf.ts [--case=16000] [--runs=3] [--modes=z,z2,plain] [--perf=1] [--extra=<more CLI args, comma-separated>]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { run, runOk } from "../../test/lib/exec.ts";
import { ensureLibvirtd } from "../../test/lib/libvirtd.ts";
import { TestVm } from "../../test/lib/vm.ts";
import { cleanupAll, cleanupOnSignals, onCleanup } from "../lib/cleanup.ts";
import { dirtyExtents, FRAGMENTED_FULL } from "../lib/fragmented.ts";
import { startPullJob } from "../lib/pull-job.ts";
import { deleteAllCheckpoints, ourCli, snapshotOurClis } from "../lib/tools.ts";

const arg = (name: string) => process.argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ticks = (pid: number) => { const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" "); return (Number(f[11]) + Number(f[12])) * 10; };

async function main() {
    cleanupOnSignals();
    const c = FRAGMENTED_FULL.find(x => x.name.includes(arg("case") ?? "16000"))!;
    const runs = Number(arg("runs") ?? 3);
    const extra = (arg("extra") ?? "").split(",").filter(Boolean);
    onCleanup("libvirtd", await ensureLibvirtd());
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-zperf-`));
    onCleanup("work", () => fs.rmSync(work, { recursive: true, force: true }));
    await snapshotOurClis(work);
    const vm = await TestVm.create({ disks: [{ size: c.diskSize }] });
    onCleanup("VM", () => vm.cleanup());
    const chain = path.join(work, "chain");
    const modes = (arg("modes") ?? "z,plain").split(",");
    const cli = (level: string, z: boolean) => [ourCli("virtnbdbackup"), "-d", vm.name, "-l", level, "-o", chain, "--noprogress", ...(z ? ["-z"] : []), ...extra];
    await runOk(process.execPath, cli("full", true));
    const qpid = vm.qemuPid()!;
    { const a = ticks(qpid); await new Promise(r => setTimeout(r, 4000)); console.log(`qemu idle: ${(ticks(qpid) - a) / 4} ms CPU per s`); }
    for (let r = 0; r < runs; r++) {
        await dirtyExtents(vm, c);
        const job = await startPullJob(vm.name, "vda", work);
        let q0 = ticks(qpid);
        const f0 = performance.now();
        await runOk("nbdcopy", [job.uri, path.join(work, "floor.raw")]);
        const floorCopy = performance.now() - f0;
        const qf = ticks(qpid) - q0;
        await job.stop();
        fs.rmSync(path.join(work, "floor.raw"));
        console.log(`round ${r}: nbdcopy ${floorCopy.toFixed(0)} ms, qemu ${qf} ms CPU`);
        for (const mode of modes) {
            const z = mode.startsWith("z");
            const pool = /^z(\d+)$/.exec(mode)?.[1];
            const env = pool ? { UV_THREADPOOL_SIZE: pool } : undefined;
            await dirtyExtents(vm, c);
            q0 = ticks(qpid);
            const t0 = performance.now();
            const perfFile = path.join(os.tmpdir(), `zperf-${process.pid}-${mode}.data`);
            const res = r === 0 && arg("perf") ? await run("perf", ["record", "-q", "-F", "1999", "-g", "-o", perfFile, "--", "/usr/bin/time", "-f", "TIME %U %S %M", process.execPath, "--perf-basic-prof", ...cli("inc", z)]) : await run("/usr/bin/time", ["-f", "TIME %U %S %M", process.execPath, "--require", path.join(import.meta.dirname, "thread-times.cjs"), ...cli("inc", z)], { env });
            const wall = performance.now() - t0;
            const qi = ticks(qpid) - q0;
            const t = /TIME (\S+) (\S+) (\d+)/.exec(res.stderr)!;
            console.log(res.stderr.split("\n").filter(l => l.startsWith("THREADS")).join("\n"));
            console.log(`  ${mode}: wall ${wall.toFixed(0)} ms (${(wall / floorCopy).toFixed(2)}× copy), ours user ${t[1]} sys ${t[2]} rss ${Math.round(Number(t[3]) / 1024)} MB, qemu ${qi} ms CPU`);
            if (fs.existsSync(perfFile)) {
                for (const sort of ["pid", "pid,dso", "pid,sym"]) {
                    const rep = await run("perf", ["report", "-i", perfFile, "--no-children", "--sort", sort, "--stdio", "-g", "none", "--percent-limit", "0.3"]);
                    console.log(rep.stdout.split("\n").filter(l => l && !l.startsWith("#")).slice(0, 90).join("\n"));
                }
            }
        }
    }
    await deleteAllCheckpoints(vm.name);
}

main().then(() => cleanupAll(), async err => {
    console.error(err);
    await cleanupAll();
    process.exitCode = 1;
});
