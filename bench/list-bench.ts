// SPDX-License-Identifier: GPL-3.0-or-later
// `npm run bench:list`: how fast the VM list is with 20 VMs defined (2 running, 18 shut off, two disks each):
// `helper list-vms` on its own, the page in Chromium from navigation until all 20 rows are shown, and how
// long a started VM takes to show as running without a click (the page's watch-vms). Median of the runs;
// the table also goes to bench/results/list-latest.md.
import fs from "node:fs";
import path from "node:path";
import { launchBrowser, type TestBrowser } from "../test/lib/browser.ts";
import { startCockpit, type RunningCockpit } from "../test/lib/cockpit.ts";
import { runOk } from "../test/lib/exec.ts";
import { ensureLibvirtd, LIBVIRT_URI } from "../test/lib/libvirtd.ts";
import { TestVm } from "../test/lib/vm.ts";
import { cleanupAll, cleanupOnSignals, onCleanup } from "./lib/cleanup.ts";
import os from "node:os";
import { stats } from "./lib/measure.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const HELPER = path.join(ROOT, "dist/helper/helper.js");
const VM_COUNT = 20;
const RUNNING = 2;
const HELPER_RUNS = 10;
const PAGE_RUNS = 5;
const EVENT_RUNS = 3;

interface Result { label: string; values: number[]; goalMs: number | null }

function log(text: string): void {
    process.stderr.write(`${text}\n`);
}

async function defineVms(): Promise<TestVm[]> {
    const vms: TestVm[] = [];
    onCleanup("test VMs", () => TestVm.cleanupAll());
    for (let i = 0; i < VM_COUNT; i++)
        vms.push(await TestVm.create({ start: i < RUNNING, disks: [{ size: "16M" }, { size: "8M", format: "raw" }] }));
    return vms;
}

async function timeHelper(): Promise<number[]> {
    await runOk(process.execPath, [HELPER, "list-vms"]);  // warm the page cache once
    const times: number[] = [];
    for (let i = 0; i < HELPER_RUNS; i++) {
        const start = performance.now();
        await runOk(process.execPath, [HELPER, "list-vms"]);
        times.push(performance.now() - start);
    }
    return times;
}

/** From navigation until every VM of ours has its row. */
async function timePage(browser: TestBrowser, cockpit: RunningCockpit, vms: TestVm[]): Promise<number[]> {
    const page = browser.page;
    const allRows = `#vm-list tr[data-vm^="${vms[0]!.name.replace(/-\d+$/, "-")}"]`;
    const times: number[] = [];
    for (let i = 0; i <= PAGE_RUNS; i++) {
        await page.goto("about:blank");
        const start = performance.now();
        await page.goto(cockpit.pageUrl());
        await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel as string).length >= (n as number),
                                   [allRows, vms.length] as const, { timeout: 60_000, polling: 20 });
        if (i > 0)  // the first load fills Chromium's cache, as any earlier visit would have
            times.push(performance.now() - start);
    }
    return times;
}

/** From `virsh start` returning until the row says running, and the same for `virsh destroy`. */
async function timeEvents(browser: TestBrowser, cockpit: RunningCockpit, vm: TestVm): Promise<number[]> {
    const page = browser.page;
    await page.goto(cockpit.pageUrl());
    const state = page.locator(`#vm-list tr[data-vm="${vm.name}"] .vm-state`);
    await state.waitFor({ timeout: 60_000 });
    const times: number[] = [];
    for (let i = 0; i < EVENT_RUNS; i++) {
        for (const [cmd, want] of [["start", "running"], ["destroy", "shut off"]] as const) {
            await runOk("virsh", ["-c", LIBVIRT_URI, cmd, "--domain", vm.name]);
            const start = performance.now();
            await page.waitForFunction(([sel, w]) => document.querySelector(sel as string)?.getAttribute("data-state") === w,
                                       [`#vm-list tr[data-vm="${vm.name}"] .vm-state`, want] as const, { timeout: 30_000, polling: 20 });
            times.push(performance.now() - start);
        }
    }
    return times;
}

function table(results: Result[]): string {
    const rows = results.map(r => {
        const s = stats(r.values);
        const goal = r.goalMs === null ? "" : `< ${r.goalMs}`;
        const verdict = r.goalMs === null ? "" : s.median < r.goalMs ? "PASS" : "MISS";
        return `| ${r.label} | ${s.median.toFixed(0)} | ${s.min.toFixed(0)}–${s.max.toFixed(0)} | ${s.n} | ${goal} | ${verdict} |`;
    });
    return ["| Measurement | median ms | min–max ms | runs | goal ms | result |", "| --- | --- | --- | --- | --- | --- |", ...rows].join("\n");
}

async function main(): Promise<void> {
    cleanupOnSignals();
    const stopLibvirtd = await ensureLibvirtd();
    onCleanup("libvirtd", stopLibvirtd);
    log(`defining ${VM_COUNT} VMs (${RUNNING} running)...`);
    const vms = await defineVms();
    const results: Result[] = [];
    log("timing helper list-vms...");
    results.push({ label: `helper list-vms, ${VM_COUNT} VMs (${RUNNING} running)`, values: await timeHelper(), goalMs: 300 });
    log("starting cockpit-ws and Chromium...");
    const cockpit = await startCockpit({ pkgDir: path.join(ROOT, "dist") });
    onCleanup("cockpit-ws", () => cockpit.stop());
    const browser = await launchBrowser();
    onCleanup("Chromium", () => browser.close());
    log("timing the page...");
    results.push({ label: `page: navigation until the ${VM_COUNT} rows show`, values: await timePage(browser, cockpit, vms), goalMs: 1000 });
    log("timing start/stop events...");
    results.push({ label: "page: virsh start/destroy until the row's state changes (no click)", values: await timeEvents(browser, cockpit, vms[RUNNING]!), goalMs: null });
    const load = os.loadavg()[0] ?? 0;
    const report = `# VM list speed (npm run bench:list)\n\n${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ` +
        `${os.cpus().length} CPUs, load ${load.toFixed(1)}; ${VM_COUNT} VMs defined (${RUNNING} running, two disks each)\n\n${table(results)}\n`;
    fs.writeFileSync(path.join(ROOT, "bench/results/list-latest.md"), report);
    process.stdout.write(report);
}

main().catch(e => {
    process.exitCode = 1;
    log(`bench:list failed: ${e instanceof Error ? e.message : String(e)}`);
}).finally(() => cleanupAll());
