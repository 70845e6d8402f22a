// SPDX-License-Identifier: GPL-3.0-or-later
// The listing rows of issue 11 (`npm run bench -- --list-chains`, opt-in: building the chain takes a minute or
// two): how long `helper list-restore-points` (what the Backups tab runs for its table) takes on a VM folder
// of 10 chains × 30 points, against the same command on a folder of one of those chains. One real chain of a
// full and 29 incrementals of a small TCG VM (untimed), copied as the other chains; the page cache is
// dropped before every timed run. The goals: under a second (the tab's "< 1 s"), and at most linear in the
// number of chains. The goal rows load node and the helper once after the drop (as the page's other helper calls
// just before do), so the backup files are read cold and the program is not; the fully cold run is info.
import fs from "node:fs";
import path from "node:path";
import { runOk } from "../../test/lib/exec.ts";
import { removePluginState } from "../../test/lib/plugin-state.ts";
import { TestVm } from "../../test/lib/vm.ts";
import { CorrectnessError } from "./checks.ts";
import { onCleanup } from "./cleanup.ts";
import { measureOk } from "./measure.ts";
import { median, ratioGoal, type Goal, type Row } from "./report.ts";
import { backupCmd, deleteAllCheckpoints, ourCli } from "./tools.ts";

const CHAINS = 10;
const POINTS = 30;
export const LIST_MANY = `helper list-restore-points: ${CHAINS} chains × ${POINTS} points`;
export const LIST_ONE = `helper list-restore-points: 1 chain × ${POINTS} points`;
export const LIST_COLD = `helper list-restore-points: ${CHAINS} chains × ${POINTS} points, node and helper cold too (info)`;

export async function chainListingRows(work: string, reps: number, log: (text: string) => void,
                                       beforeTimedRun: () => Promise<void>): Promise<{ rows: Row[]; goals: Goal[] }> {
    log(`chain listing: a ${POINTS}-point chain of a small VM (untimed)...`);
    const vm = await TestVm.create({ disks: [{ size: "16M", writes: [{ offset: 0, length: "1M", random: true }] }] });
    const forgetVm = onCleanup("chain listing VM", () => vm.cleanup());
    const uuid = (await runOk("virsh", ["-c", "qemu:///system", "domuuid", "--domain", vm.name])).stdout.trim();
    const forgetSettings = onCleanup("chain listing settings", () => removePluginState([uuid]));
    try {
        const many = path.join(work, "list-many");
        const one = path.join(work, "list-one");
        const chain = path.join(many, "chain-2");
        for (let i = 0; i < POINTS; i++) {
            await vm.write(0, { offset: `${(i % 14) + 1}M`, length: "64K", random: true, seed: i });
            const c = backupCmd("ours", vm.name, i === 0 ? "full" : "inc", chain, false);
            await measureOk(`ours ${i === 0 ? "full" : "inc"} (listing chain)`, c.cmd, c.args);
        }
        await deleteAllCheckpoints(vm.name);
        for (let n = 3; n <= CHAINS + 1; n++)
            await runOk("cp", ["-a", chain, path.join(many, `chain-${n}`)]);
        fs.mkdirSync(one);
        await runOk("cp", ["-a", chain, path.join(one, "chain-2")]);
        const helper = path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");
        const rows: Row[] = [];
        for (const [label, folder, chains, warmProgram] of [[LIST_ONE, one, 1, true], [LIST_MANY, many, CHAINS, true], [LIST_COLD, many, CHAINS, false]] as const) {
            await runOk(process.execPath, [helper, "set-settings", "--domain", vm.name, "--folder", folder, "--schedule", "off"]);
            const row: Row = { label, wallMs: [], bytes: 0, peakRss: [], cpuSeconds: [] };
            for (let round = 0; round < reps; round++) {
                await beforeTimedRun();
                if (warmProgram)
                    await runOk(process.execPath, [helper, "--help"]);
                const m = await measureOk(label, process.execPath, [helper, "list-restore-points", "--domain", vm.name]);
                const answer = JSON.parse(m.stdout) as { points: unknown[]; chains?: unknown[] };
                if (answer.points.length !== chains * POINTS)
                    throw new CorrectnessError(`${label}: listed ${answer.points.length} points, not ${chains * POINTS}`);
                row.wallMs.push(m.wallMs);
                row.peakRss.push(m.peakRss);
                row.cpuSeconds.push(m.cpuSeconds);
            }
            rows.push(row);
        }
        const [oneMs, manyMs] = rows.map(r => median(r));  // (the cold row is info)
        const goals: Goal[] = [
            { goal: `restore points of ${CHAINS} chains × ${POINTS} points listed (the Backups tab's table)`, target: "< 1 s",
              value: manyMs === null ? "n/a" : `${(manyMs / 1000).toFixed(2)} s`, pass: manyMs === null ? null : manyMs < 1000 },
            ratioGoal(`listing ${CHAINS} chains / listing 1 chain (${POINTS} points each)`, manyMs, oneMs, "<=", CHAINS),
        ];
        return { rows, goals };
    } finally {
        forgetSettings();
        removePluginState([uuid]);
        forgetVm();
        await vm.cleanup();
    }
}
