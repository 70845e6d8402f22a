// SPDX-License-Identifier: GPL-3.0-or-later
// Where does our full backup's CPU time go? Runs our CLI under `node --cpu-prof` on a VM built like the
// benchmark's and prints the functions with the most self time (main thread only: the libuv pool's
// writes and lz4 do not show up here, which is the point — the main thread is what the NBD I/O waits on).
//   node --import tsx bench/experiments/cpu-profile.ts [--small] [-z]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runOk } from "../../test/lib/exec.ts";
import { ensureLibvirtd } from "../../test/lib/libvirtd.ts";
import { TestVm } from "../../test/lib/vm.ts";
import { cleanupAll, cleanupOnSignals, onCleanup } from "../lib/cleanup.ts";
import { FULL, SMOKE } from "../lib/config.ts";
import { dropCaches } from "../lib/host.ts";
import { ourCli, snapshotOurClis } from "../lib/tools.ts";
import { selfTimes, type Profile } from "../lib/cpu-profile.ts";


async function main() {
    cleanupOnSignals();
    const cfg = process.argv.includes("--small") ? SMOKE : FULL;
    const compress = process.argv.includes("-z");
    onCleanup("libvirtd", await ensureLibvirtd());
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-cpuprof-`));
    onCleanup("work", () => fs.rmSync(work, { recursive: true, force: true }));
    await snapshotOurClis(work);
    const vm = await TestVm.create({ disks: [{ size: cfg.diskSize, writes: cfg.writes }] });
    onCleanup("VM", () => vm.cleanup());

    const profDir = path.join(work, "prof");
    await dropCaches();
    const t0 = performance.now();
    await runOk(process.execPath, ["--cpu-prof", "--cpu-prof-dir", profDir, ourCli("virtnbdbackup"),
        "-d", vm.name, "-l", "full", "-o", path.join(work, "out"), "--noprogress", ...(compress ? ["-z"] : [])]);
    const wall = (performance.now() - t0) / 1000;
    const file = fs.readdirSync(profDir).find(f => f.endsWith(".cpuprofile"));
    if (!file)
        throw new Error("no .cpuprofile written");
    const profile = JSON.parse(fs.readFileSync(path.join(profDir, file), "utf8")) as Profile;
    const span = (profile.endTime - profile.startTime) / 1000;
    const rows = selfTimes(profile);
    const idle = rows.filter(([k]) => k.startsWith("(idle)")).reduce((s, [, v]) => s + v, 0);
    console.log(`full${compress ? " -z" : ""}: wall ${wall.toFixed(2)} s, profiled ${(span / 1000).toFixed(2)} s, main thread busy ${((span - idle) / 1000).toFixed(2)} s\n`);
    console.log("| self ms | function |");
    console.log("| --- | --- |");
    for (const [key, ms] of rows.slice(0, 15))
        console.log(`| ${ms.toFixed(0)} | ${key} |`);
}

main().then(() => cleanupAll(), async err => {
    console.error(err);
    await cleanupAll();
    process.exitCode = 1;
});
