// `--queue`: 6 VMs whose scheduled backups start in the same minute, all at once (no queue: 6 slots) and
// through the host-wide job queue (the default: half the cores). Wall time from the 6 starts until the last
// backup ended, each a full of the same data; every backup must succeed.
import fs from "node:fs";
import path from "node:path";
import { run, runOk } from "../../test/lib/exec.ts";
import { TestVm } from "../../test/lib/vm.ts";
import { defaultMaxBackupJobs, HOST_SETTINGS_FILE } from "../../helper/jobs/host-settings.ts";
import { onCleanup } from "./cleanup.ts";

const VMS = 6;
const JOBS_DIR = "/run/cockpit-virtnbdbackup/jobs";

export interface QueueRow { label: string; seconds: number }

async function helper(helperJs: string, args: string[]): Promise<string> {
    return (await runOk(process.execPath, [helperJs, ...args], { timeoutMs: 120_000 })).stdout;
}

async function allEnded(uuids: string[]): Promise<string[]> {
    for (;;) {
        const states = uuids.map(u => (JSON.parse(fs.readFileSync(path.join(JOBS_DIR, `${u}.json`), "utf8")) as { state: string }).state);
        if (states.every(s => s !== "running"))
            return states;
        await new Promise(resolve => setTimeout(resolve, 100));
    }
}

export async function queueRows(work: string, helperJs: string, log: (s: string) => void, diskSize = "256M", dataLength = "160M"): Promise<QueueRow[]> {
    log(`queue: building ${VMS} VMs (${diskSize} disk, ${dataLength} written)...`);
    const vms: TestVm[] = [];
    onCleanup("queue VMs", async () => { for (const vm of vms) await vm.cleanup() });
    const hostBefore = fs.existsSync(HOST_SETTINGS_FILE) ? fs.readFileSync(HOST_SETTINGS_FILE, "utf8") : undefined;
    onCleanup("queue host settings", () => hostBefore === undefined ? fs.rmSync(HOST_SETTINGS_FILE, { force: true }) : fs.writeFileSync(HOST_SETTINGS_FILE, hostBefore));
    const uuids: string[] = [];
    // A time of day an hour ago: the schedule is on (run-scheduled starts it), cron does not fire it meanwhile.
    const at = new Date(Date.now() - 3_600_000);
    const time = `${String(at.getHours()).padStart(2, "0")}:${String(at.getMinutes()).padStart(2, "0")}`;
    for (let i = 0; i < VMS; i++) {
        const vm = await TestVm.create({ disks: [{ size: diskSize, writes: [{ offset: 0, length: dataLength, random: true, seed: 300 + i }] }] });
        vms.push(vm);
        uuids.push((await runOk("virsh", ["-c", "qemu:///system", "domuuid", "--domain", vm.name])).stdout.trim());
    }
    onCleanup("queue schedules", async () => {
        for (const vm of vms)
            await run(process.execPath, [helperJs, "set-settings", "--domain", vm.name, "--folder", path.join(work, "queue-off"), "--schedule", "off"]);
    });
    const rows: QueueRow[] = [];
    for (const max of [VMS, defaultMaxBackupJobs()]) {
        for (const [i, vm] of vms.entries()) {
            const folder = path.join(work, `queue-${i}`);
            fs.rmSync(folder, { recursive: true, force: true });
            await helper(helperJs, ["set-settings", "--domain", vm.name, "--folder", folder, "--schedule", "daily", "--time", time]);
        }
        await helper(helperJs, ["set-host-settings", "--max-backup-jobs", String(max)]);
        log(`queue: ${VMS} scheduled backups, at most ${max} at once...`);
        const start = performance.now();
        await Promise.all(uuids.map(u => helper(helperJs, ["run-scheduled", "--uuid", u])));
        const states = await allEnded(uuids);
        const seconds = (performance.now() - start) / 1000;
        if (states.some(s => s !== "succeeded"))
            throw new Error(`queue bench: not every backup succeeded: ${states.join(", ")}`);
        rows.push({ label: max === VMS ? `${VMS} scheduled backups in the same minute, all at once (no queue)` : `the same through the job queue (at most ${max} at once, the default here)`, seconds });
        log(`  ${seconds.toFixed(1)} s`);
    }
    return rows;
}
