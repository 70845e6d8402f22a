// SPDX-License-Identifier: GPL-3.0-or-later
// Where a small fragmented inc's wall time goes beside its floor: per round, new data in every extent, the floor
// (backup-begin, nbdcopy of the export, domjobabort: each timed), new data again, then our inc under
// `strace -f --seccomp-bpf` on a few rare calls (process starts and ends, opens, connects, fsyncs, the lock, the
// commands written to the virsh shell), cut into phases: start (node up to the lock), checks (lock to
// backup-begin's command), begin (to the first NBD connect), copy (to the data file's last fsync), end (to exit).
// --drop: as the bench does, the page cache is dropped before the floor and before ours, then that side's programs
// are loaded once. --like-bench: ours follows the floor at once (no new writes in between), as in the bench.
//   node --import tsx bench/experiments/frag-timeline.ts [--case=4000] [--runs=3] [-z] [--drop] [--like-bench]
//       [--print=1] [--marks]
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
import { traceEvents, type TraceEvent } from "../lib/strace-events.ts";
import { deleteAllCheckpoints, ourCli, programsOf, snapshotOurClis } from "../lib/tools.ts";

const arg = (name: string) => process.argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ms = (x: number) => x.toFixed(0).padStart(5);

/** The phase boundaries of one of our runs, from its events. */
function phases(ev: TraceEvent[]): Record<string, number> {
    const first = (test: (e: TraceEvent) => boolean) => ev.find(test)?.at ?? NaN;
    const last = (test: (e: TraceEvent) => boolean) => [...ev].reverse().find(test)?.at ?? NaN;
    const lock = first(e => e.what.startsWith("flock("));
    const begin = first(e => e.what.startsWith("write(") && e.what.includes("backup-begin"));
    const connect = first(e => e.what.startsWith("connect(") && e.what.includes(".sock"));
    const dataSync = last(e => /^f(data)?sync\(/.test(e.what) && !e.main);
    const abort = first(e => e.what.startsWith("write(") && e.what.includes("domjobabort"));
    const exit = last(e => e.main && e.what.startsWith("+++ exited"));
    return { lock, begin, connect, dataSync, abort, exit };
}

async function main() {
    cleanupOnSignals();
    const c = FRAGMENTED_FULL.find(x => x.name.includes(arg("case") ?? "4000"))!;
    const runs = Number(arg("runs") ?? 3);
    const compress = process.argv.includes("-z");
    onCleanup("libvirtd", await ensureLibvirtd());
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-fragtl-`));
    onCleanup("work", () => fs.rmSync(work, { recursive: true, force: true }));
    await snapshotOurClis(work);
    const vm = await TestVm.create({ disks: [{ size: c.diskSize }] });
    onCleanup("VM", () => vm.cleanup());
    const chain = path.join(work, "chain");
    // The file itself, as users run it: its first line gives node its options and drops NODE_EXTRA_CA_CERTS.
    const cli = (level: string): string[] => [ourCli("virtnbdbackup"), "-d", vm.name, "-l", level, "-o", chain, "--noprogress", ...(compress ? ["-z"] : [])];
    await runOk(cli("full")[0]!, cli("full").slice(1));
    const drop = process.argv.includes("--drop");
    const likeBench = process.argv.includes("--like-bench");
    const prepare = async (side: "floor" | "ours") => {
        if (!drop)
            return;
        await dropCaches();
        for (const p of programsOf(side))
            await runOk(p.cmd, p.args);
    };
    console.log(`${c.name}${compress ? " -z" : ""}, ${drop ? "page cache dropped, programs loaded" : "warm page cache"}; ms`);
    console.log("floor: begin  copy abort total | ours: start checks begin  copy   end  total (abort at)");
    for (let round = 0; round < runs; round++) {
        await dirtyExtents(vm, c);
        await prepare("floor");
        const job = await startPullJob(vm.name, "vda", work);
        const f0 = performance.now();
        await runOk("nbdcopy", [job.uri, path.join(work, "floor.raw")]);
        const copyMs = performance.now() - f0;
        const abortMs = await job.stop();
        fs.rmSync(path.join(work, "floor.raw"));
        // --like-bench: ours right after the floor, on the same writes, as the bench's plain chain runs them.
        if (!likeBench)
            await dirtyExtents(vm, c);
        await prepare("ours");
        const traceFile = path.join(work, "ours.trace");
        const t0 = performance.now();
        if (process.argv.includes("--marks")) {
            // Only the marks a build prints with VNBT_T set (a build made for it), no strace.
            const r = await runOk(cli("inc")[0]!, cli("inc").slice(1), { env: { ...process.env, VNBT_T: "1" } });
            console.log(`floor ${ms(job.beginMs)} ${ms(copyMs)} ${ms(abortMs)} ${ms(job.beginMs + copyMs + abortMs)}, ours ${ms(performance.now() - t0)}: ` +
                r.stderr.split("\n").filter(l => l.startsWith("T ")).map(l => l.slice(2)).join(" | "));
            continue;
        }
        const r = await runOk("strace", ["-f", "--seccomp-bpf", "-ttt", "-s", "48", "-o", traceFile,
            "-e", "trace=execve,exit_group,connect,fsync,fdatasync,flock,openat,write", ...cli("inc")]);
        const wall = performance.now() - t0;
        const ev = traceEvents(fs.readFileSync(traceFile, "utf8"));
        const p = phases(ev);
        console.log(`      ${ms(job.beginMs)} ${ms(copyMs)} ${ms(abortMs)} ${ms(job.beginMs + copyMs + abortMs)} |       ` +
            `${ms(p.lock!)}  ${ms(p.begin! - p.lock!)} ${ms(p.connect! - p.begin!)} ${ms(p.dataSync! - p.connect!)} ` +
            `${ms(p.exit! - p.dataSync!)} ${ms(p.exit!)} (${ms(p.abort!)}); wall under strace ${ms(wall)}`);
        if (process.env.VNBT_T)
            console.log(r.stderr.split("\n").filter(l => l.startsWith("T ")).join("\n"));
        if (arg("print") === "1" && round === runs - 1)
            for (const e of ev.filter(e => !e.what.startsWith("write(") || /virsh|echo|backup|dom|checkpoint|qemu/.test(e.what)))
                console.log(`${ms(e.at)} ${e.main ? "  " : "T "} ${e.what.slice(0, 110)}`);
    }
    await deleteAllCheckpoints(vm.name);
}

main().then(() => cleanupAll(), async err => {
    console.error(err);
    await cleanupAll();
    process.exitCode = 1;
});
