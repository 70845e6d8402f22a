// SPDX-License-Identifier: GPL-3.0-or-later
// The set-up and tear-down real-stack test files share, registered as the file's (or describe block's)
// before/after hooks: libvirtd, a work folder, the VMs the file makes (with what the plugin stored about
// them), and for the browser tests cockpit-ws and one Chromium kept open across the tests (a 287 local
// session ends soon after its last page closes). Each file adds only what is its own: its VMs' content,
// its backups, the page it opens, a teardown step for what else it made.
//
// Teardown runs every step even when one fails (the first error is reported after), in this order: the
// browser and cockpit-ws, the file's own steps (newest first), the VMs' schedules off, the VMs, the
// plugin's state of them, the work folder, libvirtd.
import { after, before } from "node:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { ensureBuilt } from "./build.ts";
import { launchBrowser, type TestBrowser } from "./browser.ts";
import { startCockpit, type RunningCockpit } from "./cockpit.ts";
import { run, runOk } from "./exec.ts";
import { ensureLibvirtd, LIBVIRT_URI } from "./libvirtd.ts";
import { removePluginState, SETTINGS_DIR } from "./plugin-state.ts";
import { TestVm, type TestVmOptions } from "./vm.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** The built plugin cockpit-ws serves. */
export const DIST = path.join(ROOT, "dist");
const HELPER = path.join(DIST, "helper", "helper.js");

export interface TestBedOptions {
    /** A short name of the file, in its work folder's name (vnbt-<pid>-<name>-XXXXXX). */
    name: string;
    /** Mode of the work folder (mkdtemp makes it 0700): e.g. 0o755 when QEMU or another user reaches below it. */
    workMode?: number;
    /** Parent of the work folder; default the system's temporary folder. */
    workParent?: string;
    /** Start libvirtd if it does not run (default true). */
    libvirtd?: boolean;
    /** Also remove every other TestVm this process made and did not remove (for files whose tests make VMs). */
    everyVm?: boolean;
}

export interface TestBed {
    /** The file's work folder, removed at the end (only once the set-up ran). */
    readonly work: string;
    /** A VM for this file, removed at the end with the plugin's settings, jobs and history of it. */
    vm(options: TestVmOptions): Promise<TestVm>;
    /** The UUID of a VM made with vm(). */
    uuid(vm: TestVm): string;
    /**
     * A set-up step of the file's own, run in the bed's before() hook once the bed is up. Needed at a file's
     * top level: there node:test (20) starts the file's before() hooks without waiting for the one before.
     */
    before(step: () => unknown): void;
    /** A clean-up step of the file's own (run before the VMs go, newest first). */
    onTeardown(step: () => unknown): void;
}

/** What uiTestBed() adds to the bed's one before() hook: a step first (the build) and one after the set-up. */
interface BedHooks {
    first?: () => Promise<unknown>;
    started?: () => Promise<unknown>;
}

type Step = [label: string, step: () => unknown];

/** Runs every step, reporting how long each took; throws the first error once all ran. */
async function runSteps(steps: Step[]): Promise<void> {
    let first: { err: unknown } | undefined;
    for (const [label, step] of steps) {
        const start = Date.now();
        try {
            await step();
        } catch (err) {
            console.error(`# tear-down: ${label} failed: ${(err as Error).message}`);
            first ??= { err };
        }
        console.log(`# tear-down: ${label}: ${Date.now() - start} ms`);
    }
    if (first)
        throw first.err;
}

/** Runs a set-up step and reports how long it took (these dominate a browser test file's time). */
export async function timed<T>(label: string, step: () => Promise<T>): Promise<T> {
    const start = Date.now();
    try {
        return await step();
    } finally {
        console.log(`# set-up: ${label}: ${Date.now() - start} ms`);
    }
}

/**
 * Turns a VM's automatic backups off before its settings go: the helper rewrites the cron file from the
 * stored settings, so a removed settings file alone would leave the VM's line there until the next change.
 */
async function scheduleOff(vm: TestVm, uuid: string, work: string): Promise<void> {
    const file = path.join(SETTINGS_DIR, `${uuid}.json`);
    if (!fs.existsSync(file))
        return;
    const stored = JSON.parse(fs.readFileSync(file, "utf8")) as { schedule?: { frequency?: string } };
    if ((stored.schedule?.frequency ?? "off") === "off")
        return;
    // A folder of the file's own: the stored one may be gone or have become a file meanwhile.
    await runOk(process.execPath, [HELPER, "set-settings", "--domain", vm.name, "--folder", path.join(work, "schedule-off"), "--schedule", "off"]);
}

/** Registers the shared set-up and tear-down (call it in the file, or in its describe block, before its own hooks). */
export function testBed(options: TestBedOptions, hooks: BedHooks = {}): TestBed & { teardownFirst(label: string, step: () => unknown): void } {
    let work: string | undefined;
    let stopLibvirtd: (() => Promise<void>) | undefined;
    const vms: { vm: TestVm; uuid: string }[] = [];
    const own: Step[] = [];
    const first: Step[] = [];
    const setup: (() => unknown)[] = [];
    let ownCount = 0;

    const bed = {
        get work(): string {
            if (work === undefined)
                throw new Error("the test bed's work folder is made in its before() hook");
            return work;
        },
        async vm(vmOptions: TestVmOptions): Promise<TestVm> {
            const vm = await TestVm.create(vmOptions);
            const r = await run("virsh", ["-c", LIBVIRT_URI, "domuuid", "--domain", vm.name]);
            vms.push({ vm, uuid: r.stdout.trim() });
            if (r.code !== 0)
                throw new Error(`virsh domuuid ${vm.name}: ${r.stderr}`);
            return vm;
        },
        uuid(vm: TestVm): string {
            const entry = vms.find(e => e.vm === vm);
            if (!entry)
                throw new Error(`${vm.name} was not made by the test bed`);
            return entry.uuid;
        },
        before(step: () => unknown): void {
            setup.push(step);
        },
        onTeardown(step: () => unknown): void {
            own.push([`the file's step ${++ownCount}`, step]);
        },
        /** A step that runs before the file's own (the browser, cockpit-ws). */
        teardownFirst(label: string, step: () => unknown): void {
            first.push([label, step]);
        },
    };

    // One hook, its steps in order (hooks of their own would not wait for each other at a file's top level).
    before(async () => {
        await hooks.first?.();
        if (options.libvirtd ?? true)
            stopLibvirtd = await timed("libvirtd", ensureLibvirtd);
        work = fs.mkdtempSync(path.join(options.workParent ?? os.tmpdir(), `vnbt-${process.pid}-${options.name}-`));
        if (options.workMode !== undefined)
            fs.chmodSync(work, options.workMode);
        await hooks.started?.();
        for (const step of setup)
            await step();
    });
    after(async () => {
        const steps: Step[] = [...first.reverse(), ...own.reverse()];
        for (const { vm, uuid } of [...vms].reverse()) {
            steps.push([`${vm.name}: schedule off`, () => work !== undefined && scheduleOff(vm, uuid, work)]);
            steps.push([`remove ${vm.name}`, () => vm.cleanup()]);
        }
        if (options.everyVm)
            steps.push(["remove the other VMs", () => TestVm.cleanupAll()]);
        steps.push(["plugin state", () => removePluginState(vms.map(e => e.uuid))]);
        steps.push(["work folder", () => work !== undefined && fs.rmSync(work, { recursive: true, force: true })]);
        steps.push(["release libvirtd", () => stopLibvirtd?.()]);
        await runSteps(steps);
    });
    return bed;
}

export interface UiTestBedOptions extends TestBedOptions {
    /** Browser language; default en-US. */
    locale?: string;
    /** Start cockpit-ws serving dist/ as root (default true; false for a file that starts its own). */
    cockpit?: boolean;
    /** Makes dist/ (default ensureBuilt(): the test runner built it, else a full build). */
    build?: () => Promise<void>;
}

export interface UiTestBed extends TestBed {
    readonly cockpit: RunningCockpit;
    readonly browser: TestBrowser;
    /** The browser's one page. */
    readonly page: Page;
}

/**
 * The browser tests' bed: dist/ built, libvirtd, the work folder, cockpit-ws serving dist/ and one
 * Chromium. Call it in the file's describe block: the block's own before() hooks (registered after this
 * call) run once all is up, so VMs and backups the page must list are made there, before the page is opened.
 */
export function uiTestBed(options: UiTestBedOptions): UiTestBed {
    const build = options.build ?? (() => ensureBuilt());
    let cockpit: RunningCockpit | undefined;
    let browser: TestBrowser | undefined;
    const up = <T>(what: string, value: T | undefined): T => {
        if (value === undefined)
            throw new Error(`the test bed's ${what} starts in its before() hook`);
        return value;
    };
    const bed = testBed(options, {
        first: () => timed("build", build),
        started: async () => {
            if (options.cockpit ?? true)
                cockpit = await timed("start cockpit-ws", () => startCockpit({ pkgDir: DIST }));
            browser = await timed("start Chromium", () => launchBrowser({ locale: options.locale ?? "en-US" }));
        },
    });
    bed.teardownFirst("stop cockpit-ws", () => cockpit?.stop());
    bed.teardownFirst("close Chromium", () => browser?.close());
    return {
        get work() { return bed.work; },
        vm: options => bed.vm(options),
        uuid: vm => bed.uuid(vm),
        before: step => bed.before(step),
        onTeardown: step => bed.onTeardown(step),
        get cockpit() { return up("cockpit-ws", cockpit); },
        get browser() { return up("browser", browser); },
        get page() { return up("browser", browser).page; },
    };
}
