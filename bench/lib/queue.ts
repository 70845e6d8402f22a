// SPDX-License-Identifier: GPL-3.0-or-later
// `--queue`: 6 VMs whose scheduled backups start in the same minute, through the host-wide job queue with
// at most N of them at once, for several N (6 = no queue). Before each run the VMs' images are written back
// and dropped from the page cache (posix_fadvise DONTNEED, checked with fincore), and the previous run's
// backups are removed, so every backup reads its data from the disk. Each backup is a full of 640 MiB of
// incompressible data. Measured: wall time from the 6 starts until the last backup ended, and the mean time
// from the starts until a VM's backup ended (what a queue in order of arrival improves even when the total
// stays the same). Every backup must succeed. Rounds alternate the order of the N values.
import fs from "node:fs";
import path from "node:path";
import { constants as fileio, fadvise } from "fileio-node";
import { run, runOk } from "../../test/lib/exec.ts";
import { TestVm } from "../../test/lib/vm.ts";
import { removePluginState } from "../../test/lib/plugin-state.ts";
import { HOST_SETTINGS_FILE } from "../../helper/jobs/host-settings.ts";
import { onCleanup } from "./cleanup.ts";

const VMS = 6;
const JOBS_DIR = "/run/cockpit-virtnbdbackup/jobs";

export interface QueueRow { max: number; total: number[]; meanEnd: number[] }

interface EndedJob { state: string; finishedAt?: number }

async function helper(helperJs: string, args: string[]): Promise<string> {
    return (await runOk(process.execPath, [helperJs, ...args], { timeoutMs: 120_000 })).stdout;
}

async function allEnded(uuids: string[]): Promise<EndedJob[]> {
    for (;;) {
        const jobs = uuids.map(u => JSON.parse(fs.readFileSync(path.join(JOBS_DIR, `${u}.json`), "utf8")) as EndedJob);
        if (jobs.every(j => j.state !== "running"))
            return jobs;
        await new Promise(resolve => setTimeout(resolve, 100));
    }
}

/** Writes the images back and drops them from the page cache; returns the bytes still cached. */
async function uncache(files: string[]): Promise<number> {
    for (const file of files) {
        const fd = fs.openSync(file, "r");
        try {
            fs.fsyncSync(fd);
            await fadvise(fd, 0, 0, fileio.POSIX_FADV_DONTNEED);
        } finally {
            fs.closeSync(fd);
        }
    }
    const out = (await runOk("fincore", ["--bytes", "--noheadings", "--output", "RES", ...files])).stdout;
    return out.trim().split("\n").reduce((sum, l) => sum + Number(l.trim() || 0), 0);
}

export async function queueRows(work: string, helperJs: string, log: (s: string) => void, opts: { maxes: number[]; rounds: number; diskSize?: string; dataLength?: string }): Promise<QueueRow[]> {
    const diskSize = opts.diskSize ?? "1G";
    const dataLength = opts.dataLength ?? "640M";
    log(`queue: building ${VMS} VMs (${diskSize} disk, ${dataLength} written)...`);
    const vms: TestVm[] = [];
    onCleanup("queue VMs", async () => { for (const vm of vms) await vm.cleanup() });
    const hostBefore = fs.existsSync(HOST_SETTINGS_FILE) ? fs.readFileSync(HOST_SETTINGS_FILE, "utf8") : undefined;
    onCleanup("queue host settings", () => hostBefore === undefined ? fs.rmSync(HOST_SETTINGS_FILE, { force: true }) : fs.writeFileSync(HOST_SETTINGS_FILE, hostBefore));
    const uuids: string[] = [];
    onCleanup("queue VMs' settings, job states and history", () => removePluginState(uuids));
    // A time of day an hour ago: the schedule is on (run-scheduled starts it), cron does not fire it meanwhile.
    const at = new Date(Date.now() - 3_600_000);
    const time = `${String(at.getHours()).padStart(2, "0")}:${String(at.getMinutes()).padStart(2, "0")}`;
    for (let i = 0; i < VMS; i++) {
        const vm = await TestVm.create({ disks: [{ size: diskSize, writes: [{ offset: 0, length: dataLength, random: true, seed: 300 + i }] }] });
        vms.push(vm);
        uuids.push((await runOk("virsh", ["-c", "qemu:///system", "domuuid", "--domain", vm.name])).stdout.trim());
        // The expected image is only for checks; it must not crowd the page cache.
        fs.rmSync(vm.expectedPath(0), { force: true });
    }
    onCleanup("queue schedules", async () => {
        for (const vm of vms)
            await run(process.execPath, [helperJs, "set-settings", "--domain", vm.name, "--folder", path.join(work, "queue-off"), "--schedule", "off"]);
    });
    const images = vms.map(vm => vm.disks[0]!.path);
    const rows = new Map(opts.maxes.map(max => [max, { max, total: [] as number[], meanEnd: [] as number[] }]));
    for (let round = 0; round < opts.rounds; round++) {
        for (const max of round % 2 === 0 ? opts.maxes : [...opts.maxes].reverse()) {
            for (const [i, vm] of vms.entries()) {
                const folder = path.join(work, `queue-${i}`);
                fs.rmSync(folder, { recursive: true, force: true });
                await helper(helperJs, ["set-settings", "--domain", vm.name, "--folder", folder, "--schedule", "daily", "--time", time]);
            }
            await helper(helperJs, ["set-host-settings", "--max-backup-jobs", String(max)]);
            await runOk("sync", []);
            const cached = await uncache(images);
            log(`queue: round ${round + 1}, ${VMS} scheduled backups, at most ${max} at once (${(cached / 2 ** 20).toFixed(1)} MiB of the images cached)...`);
            const start = Date.now();
            await Promise.all(uuids.map(u => helper(helperJs, ["run-scheduled", "--uuid", u])));
            const jobs = await allEnded(uuids);
            const total = (Date.now() - start) / 1000;
            if (jobs.some(j => j.state !== "succeeded"))
                throw new Error(`queue bench: not every backup succeeded: ${jobs.map(j => j.state).join(", ")}`);
            const meanEnd = jobs.reduce((sum, j) => sum + ((j.finishedAt ?? start) - start) / 1000, 0) / jobs.length;
            rows.get(max)!.total.push(total);
            rows.get(max)!.meanEnd.push(meanEnd);
            log(`  all done after ${total.toFixed(1)} s, a VM's backup done after ${meanEnd.toFixed(1)} s on average`);
        }
    }
    return [...rows.values()];
}
