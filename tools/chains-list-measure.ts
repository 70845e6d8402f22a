// SPDX-License-Identifier: GPL-3.0-or-later
// Measures how long listing the restore points of a VM folder with 10 chains × 30 points takes (issue 11's
// "< 1 s" for the tab): one real chain of a full and 29 incrementals of a small TCG VM, copied as the other
// nine chains. Prints the helper's own time (list-restore-points, as the page runs it) and the listing alone.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { run, runOk } from "../test/lib/exec.ts";
import { ensureLibvirtd } from "../test/lib/libvirtd.ts";
import { removePluginState } from "../test/lib/plugin-state.ts";
import { TestVm } from "../test/lib/vm.ts";
import { ourBackupOk, ourCli } from "../test/lib/backup-cli.ts";
import { listVmRestorePoints } from "../helper/jobs/restore-points.ts";

const HELPER = path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");

async function main() {
    const stop = await ensureLibvirtd();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-chainlist-`));
    const vm = await TestVm.create({ disks: [{ size: "16M", writes: [{ offset: 0, length: "1M", random: true }] }] });
    const uuid = (await runOk("virsh", ["-c", "qemu:///system", "domuuid", "--domain", vm.name])).stdout.trim();
    try {
        const folder = path.join(work, "vm");
        const first = path.join(folder, "chain-2");
        for (let i = 0; i < 30; i++) {
            await vm.write(0, { offset: `${(i % 14) + 1}M`, length: "64K", random: true, seed: i });
            await ourBackupOk(["-d", vm.name, "-l", i === 0 ? "full" : "inc", "-o", first]);
        }
        for (let n = 3; n <= 11; n++)
            await runOk("cp", ["-a", first, path.join(folder, `chain-${n}`)]);
        await runOk(process.execPath, [HELPER, "set-settings", "--domain", vm.name, "--folder", folder]);
        const times: number[] = [];
        let count = 0;
        for (let i = 0; i < 5; i++) {
            const t0 = performance.now();
            const r = await run(process.execPath, [HELPER, "list-restore-points", "--domain", vm.name]);
            times.push(performance.now() - t0);
            count = JSON.parse(r.stdout).points.length;
        }
        const t1 = performance.now();
        const list = await listVmRestorePoints(folder, vm.name);
        const alone = performance.now() - t1;
        times.sort((a, b) => a - b);
        console.log(`${list.chains.length} chains, ${count} points: helper list-restore-points median ${times[2].toFixed(0)} ms (min ${times[0].toFixed(0)}, max ${times[4].toFixed(0)}); listing alone ${alone.toFixed(0)} ms`);
    } finally {
        removePluginState([uuid]);
        await vm.cleanup();
        fs.rmSync(work, { recursive: true, force: true });
        await stop();
}
}

main().catch(err => {
    console.error(err);
    process.exitCode = 1;
});
