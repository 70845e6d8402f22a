// SPDX-License-Identifier: GPL-3.0-or-later
// Where a consolidation's time goes, and two builds of the helper side by side: the benchmark's chain (a
// 4 GiB disk holding the full row's data, full + 5 incs of 64 MiB), copied before each run, page cache
// dropped; each run under `strace -f -ttt` of opens, fsyncs and renames, which mark its phases: members
// opened, output created, output fsynced, output opened for the read-back, switch. cp + sync of the same
// files alternates with the builds.
//   node --import tsx bench/experiments/consolidate-phases.ts [--old=<dir holding an older helper.js>] [--runs=4] [--profile]
import fs from "node:fs";
import path from "node:path";
import { runOk } from "../../test/lib/exec.ts";
import { ensureLibvirtd } from "../../test/lib/libvirtd.ts";
import { TestVm } from "../../test/lib/vm.ts";
import { cleanupAll, cleanupOnSignals, onCleanup } from "../lib/cleanup.ts";
import { FULL } from "../lib/config.ts";
import { selfTimes, type Profile } from "../lib/cpu-profile.ts";
import { dropCaches } from "../lib/host.ts";
import { removePluginState } from "../../test/lib/plugin-state.ts";
import { deleteAllCheckpoints, ourCli, snapshotOurClis } from "../lib/tools.ts";

const MiB = 1024 * 1024;
const INCS = 5;
const arg = (name: string) => process.argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const s = (ms: number) => (ms / 1000).toFixed(2);

/** Phase boundaries (seconds since the first syscall line) from an strace -ttt log. */
function phases(log: string, output: string): Record<string, number> {
    const lines = fs.readFileSync(log, "utf8").split("\n").filter(Boolean);
    const t = (l: string) => Number(l.split(/\s+/)[1]);
    const t0 = t(lines[0]!);
    const at = (re: RegExp, from = 0) => {
        const i = lines.findIndex((l, k) => k >= from && re.test(l));
        return i < 0 ? { i: lines.length, s: NaN } : { i, s: t(lines[i]!) - t0 };
    };
    const created = at(new RegExp(`openat\\(.*${output}.*O_CREAT`));
    const synced = at(/f(data)?sync\(/, created.i);
    const reread = at(new RegExp(`openat\\(.*${output}.*O_RDONLY`), synced.i);
    const renamed = at(/rename/, reread.i);
    const end = t(lines.at(-1)!) - t0;
    return { created: created.s, synced: synced.s, reread: reread.s, renamed: renamed.s, end };
}

async function main() {
    cleanupOnSignals();
    const runs = Number(arg("runs") ?? 4);
    const old = arg("old");
    const profile = process.argv.includes("--profile");
    onCleanup("libvirtd", await ensureLibvirtd());
    const work = fs.mkdtempSync(path.join("/var/tmp", `vnbt-${process.pid}-cphase-`));
    onCleanup("work", () => fs.rmSync(work, { recursive: true, force: true }));
    await snapshotOurClis(work);
    const helpers: Record<string, string> = { new: path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js") };
    if (old)
        helpers.old = path.join(old, "helper.js");
    const vm = await TestVm.create({ disks: [{ size: FULL.diskSize, writes: FULL.writes }] });
    onCleanup("VM", () => vm.cleanup());
    const uuid = (await runOk("virsh", ["-c", "qemu:///system", "domuuid", "--domain", vm.name])).stdout.trim();
    onCleanup("settings", () => removePluginState([uuid]));
    const chain = path.join(work, "chain");
    const backup = (level: string) => runOk(process.execPath, [ourCli("virtnbdbackup"), "-d", vm.name, "-l", level, "-o", chain, "--noprogress"]);
    await backup("full");
    for (let k = 1; k <= INCS; k++) {
        await vm.write(0, { offset: ((k * 613) % 4000) * MiB, length: 64 * MiB, random: true, seed: 1000 + k });
        await backup("inc");
    }
    await deleteAllCheckpoints(vm.name);
    const until = `virtnbdbackup.${INCS - 1}`;
    const merged = fs.readdirSync(chain).filter(n => n === "vda.full.data" || /^vda\.inc\.virtnbdbackup\.\d+\.data$/.test(n) && Number(n.split(".")[3]) < INCS);
    const times: Record<string, number[]> = { cp: [] };
    for (const b of Object.keys(helpers)) times[b] = [];
    for (let r = 0; r < runs; r++) {
        const order = r % 2 === 0 ? Object.keys(helpers) : Object.keys(helpers).reverse();
        for (const b of order) {
            const copy = path.join(work, "copy");
            fs.rmSync(copy, { recursive: true, force: true });
            fs.cpSync(chain, copy, { recursive: true, preserveTimestamps: true });
            if (b === order[0]) {
                const target = path.join(work, "cp");
                fs.mkdirSync(target);
                await dropCaches();
                const c0 = performance.now();
                await runOk("cp", [...merged.map(f => path.join(copy, f)), target]);
                await runOk("sync", ["-f", target]);
                times.cp!.push(performance.now() - c0);
                fs.rmSync(target, { recursive: true, force: true });
            }
            await runOk(process.execPath, [helpers[b]!, "set-settings", "--domain", vm.name, "--folder", copy, "--schedule", "off"]);
            await dropCaches();
            const log = path.join(work, "strace.log");
            const t0 = performance.now();
            const prof = path.join(work, `prof-${b}-${r}`);
            const cpu = path.join(work, "cpu.txt");
            await runOk("/usr/bin/time", ["-f", "%U %S", "-o", cpu, "strace", "-f", "--seccomp-bpf", "-ttt", "-qq", "-o", log, "-e", "trace=execve,openat,fsync,fdatasync,rename,renameat,renameat2,flock,connect,wait4,unlink,unlinkat",
                process.execPath, ...(profile ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : []), helpers[b]!, "consolidate", "--domain", vm.name, "--until", until, "--yes"]);
            times[b]!.push(performance.now() - t0);
            fs.copyFileSync(log, `/tmp/consolidate-phases-${b}-${r}.strace`);
            const p = phases(log, `vda\\.full\\.${until.replace(".", "\\.")}\\.data`);
            const [user, sys] = fs.readFileSync(cpu, "utf8").trim().split(/\s+/).slice(-2);
            console.error(`round ${r + 1} ${b}: ${s(times[b]!.at(-1)!)} s (cp ${s(times.cp!.at(-1)!)}); CPU user ${user} sys ${sys}; phases: ` +
                Object.entries(p).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", "));
            if (profile) {
                const file = path.join(prof, fs.readdirSync(prof)[0]!);
                const self = selfTimes(JSON.parse(fs.readFileSync(file, "utf8")) as Profile);
                console.error(self.slice(0, 12).map(([name, ms]) => `  ${ms.toFixed(0).padStart(6)} ms ${name}`).join("\n"));
            }
        }
    }
    for (const [k, v] of Object.entries(times))
        console.error(`${k}: median ${s(median(v))} s over ${v.length}` + (k !== "cp" ? ` (${(median(v) / median(times.cp!)).toFixed(2)}× cp + sync)` : ""));
}

main().catch(err => {
    console.error(err);
    process.exitCode = 1;
}).finally(() => cleanupAll());
