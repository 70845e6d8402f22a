// SPDX-License-Identifier: GPL-3.0-or-later
// Where the fixed cost of a run goes: our inc with nothing dirty under `strace -f --seccomp-bpf` (only process
// starts and ends, connects, fsyncs and the lock: little overhead), as a timeline of the processes it starts,
// per build, alternating; plus each build's median wall time and process count without strace.
//   node --import tsx bench/experiments/run-timeline.ts [--old=<copy of an older dist/helper>] [--runs=5] [--cold]
// --cold: before each run the page cache is dropped and the programs loaded once, as the bench's fixed-cost rows do.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runOk } from "../../test/lib/exec.ts";
import { ensureLibvirtd } from "../../test/lib/libvirtd.ts";
import { TestVm } from "../../test/lib/vm.ts";
import { cleanupAll, cleanupOnSignals, onCleanup } from "../lib/cleanup.ts";
import { dropCaches } from "../lib/host.ts";
import { traceEvents } from "../lib/strace-events.ts";
import { deleteAllCheckpoints, ourCli, snapshotOurClis } from "../lib/tools.ts";

const arg = (name: string) => process.argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

/** Pure: strace -f -ttt lines -> [start ms, end ms, what] rows, relative to the first line. */
function timeline(trace: string): [number, number, string][] {
    const rows: [number, number, string][] = [];
    const started = new Map<number, { at: number; name: string }>();
    for (const { at: t, pid, main: isMain, what: rest } of traceEvents(trace)) {
        // A failed lookup along PATH is ENOENT; a successful exec may be split ("<unfinished ...>") by another's.
        if (rest.startsWith("execve(") && !/ = -1 /.test(rest) && !isMain) {
            const argv = [...(/\[(.*?)\]/.exec(rest)?.[1] ?? "").matchAll(/"((?:[^"\\]|\\.)*)"/g)].map(a => a[1]!);
            const words = argv[0] === "virsh" ? argv.slice(3).filter(a => !a.startsWith("-")).slice(0, 1) : argv.slice(1, 2);
            started.set(pid, { at: t, name: `${argv[0]} ${argv[0] === "virsh" && argv[3]?.startsWith("echo @@") ? "(batch)" : words.join(" ")}` });
        } else if (rest.startsWith("+++ exited") && started.has(pid)) {
            const s = started.get(pid)!;
            rows.push([s.at, t, s.name]);
            started.delete(pid);
        } else if (rest.startsWith("+++ exited") && isMain) {
            rows.push([t, t, "exit"]);
        } else if (/^(fsync|fdatasync|flock)\(/.test(rest)) {
            rows.push([t, t, `${rest.split("(")[0]}${isMain ? "" : " (thread pool)"}`]);
        } else if (rest.startsWith("openat(") && isMain && !/ = -1 /.test(rest) && !/"\/(proc|sys|dev)\//.test(rest)) {
            rows.push([t, t, `open ${/"([^"]*)"/.exec(rest)?.[1] ?? "?"}`]);
        } else if (rest.startsWith("connect(") && rest.includes("nbd.sock")) {
            rows.push([t, t, "NBD connect"]);
        }
    }
    return rows.sort((a, b) => a[0] - b[0]);
}

async function main() {
    cleanupOnSignals();
    const runs = Number(arg("runs") ?? 5);
    onCleanup("libvirtd", await ensureLibvirtd());
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-timeline-`));
    onCleanup("work", () => fs.rmSync(work, { recursive: true, force: true }));
    await snapshotOurClis(work);
    const builds: Record<string, string> = { new: ourCli("virtnbdbackup") };
    if (arg("old"))
        builds.old = path.join(arg("old")!, "virtnbdbackup.js");
    const vm = await TestVm.create({ disks: [{ size: "1G" }] });
    onCleanup("VM", () => vm.cleanup());
    const chain = path.join(work, "chain");
    const cli = (build: string, level: string) => [builds[build]!, "-d", vm.name, "-l", level, "-o", chain, "--noprogress"];
    await runOk(process.execPath, cli("new", "full"));
    const names = Object.keys(builds);
    const times: Record<string, number[]> = Object.fromEntries(names.map(n => [n, []]));
    const cpu: Record<string, number[]> = Object.fromEntries(names.map(n => [n, []]));
    const timeFile = path.join(work, "time");
    const cold = process.argv.includes("--cold");
    const prepare = async (build: string) => {
        if (!cold)
            return;
        await dropCaches();
        await runOk(process.execPath, [builds[build]!, "--help"]);
        await runOk("qemu-img", ["--version"]);
        await runOk("virsh", ["-c", "qemu:///system", "-r", "version"]);
    };
    for (let r = 0; r < runs; r++) {
        for (const build of r % 2 ? [...names].reverse() : names) {
            await prepare(build);
            const t0 = performance.now();
            // GNU time: user + system CPU of the run and of every process it waited for (virsh, qemu-img).
            await runOk("/usr/bin/time", ["-f", "%U %S", "-o", timeFile, process.execPath, ...cli(build, "inc")]);
            times[build]!.push(performance.now() - t0);
            cpu[build]!.push(fs.readFileSync(timeFile, "utf8").trim().split(/\s+/).reduce((sum, v) => sum + Number(v), 0));
        }
    }
    for (const build of names) {
        const traceFile = path.join(work, `${build}.trace`);
        await prepare(build);
        await runOk("strace", ["-f", "--seccomp-bpf", "-ttt", "-e", "trace=execve,exit_group,connect,fsync,fdatasync,flock,openat", "-o", traceFile, process.execPath, ...cli(build, "inc")]);
        const rows = timeline(fs.readFileSync(traceFile, "utf8"));
        console.log(`\n${build}: inc with nothing dirty, median ${median(times[build]!).toFixed(0)} ms, CPU ${median(cpu[build]!).toFixed(2)} s, of ${runs} (without strace); ` +
            `${rows.filter(r => r[0] !== r[1]).length} processes started. One run under strace:`);
        for (const [start, end, what] of rows)
            console.log(`${start.toFixed(0).padStart(6)} ${start === end ? "      " : end.toFixed(0).padStart(6)}  ${what}`);
    }
    await deleteAllCheckpoints(vm.name);
}

main().then(() => cleanupAll(), async err => {
    console.error(err);
    await cleanupAll();
    process.exitCode = 1;
});
