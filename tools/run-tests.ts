// SPDX-License-Identifier: GPL-3.0-or-later
// Runs the test files with node's test runner. Usage: run-tests.ts [unit|realstack|FILE...]
//
// Most files only touch what they made (their own VMs, folders, users, cockpit-ws port), so they run two at
// a time (VNBT_TEST_LANES, default 2): on a 2-core machine most of a real-stack test is waiting for libvirt,
// QEMU and child processes. A file whose header has a line `// Runs alone: <why>` changes something the
// whole host shares (the job queue's size, the installed package, the listing of the maps folder, a
// CPU-bound guest boot) and runs after the others, one at a time.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ensureLibvirtd } from "../test/lib/libvirtd.ts";
import { TestVm } from "../test/lib/vm.ts";
import { guestImage } from "../test/lib/guest-image.ts";
import { ensureCron } from "../test/lib/cron.ts";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

function find(dir: string): string[] {
    const abs = path.join(root, dir);
    if (!fs.existsSync(abs))
        return [];
    return fs.readdirSync(abs, { recursive: true, encoding: "utf8" })
            .filter(f => f.endsWith(".test.ts"))
            .map(f => path.join(dir, f))
            .sort();
}

/** The file's header (the lines before its first import) says it runs alone. */
function runsAlone(source: string): boolean {
    const header = source.split(/^import /m)[0] ?? "";
    return /^\/\/ Runs alone: \S/m.test(header);
}

/** Files whose scheduled backups need the host's cron daemon: it runs for the whole run, so no file stops it under another. */
function usesCron(source: string): boolean {
    return /lib\/cron\.ts/.test(source);
}

/** Files that boot the cached Debian guest; its image is built (once, minutes) before the lanes start. */
function usesGuestImage(source: string): boolean {
    return /lib\/guest-(vm|chain|browse|image)\.ts/.test(source);
}

const args = process.argv.slice(2);
// Pure logic and the codec and file bindings: no libvirt, no servers.
const unit = [...find("test/unit"), ...find("codec-node/test"), ...find("fileio-node/test")];
const realstack = [...find("libnbd-node/test"), ...find("test/realstack")];
let files: string[];
if (args.length === 0)
    files = [...unit, ...realstack];
else if (args[0] === "unit")
    files = unit;
else if (args[0] === "realstack")
    files = realstack;
else
    files = args;

const lanes = Math.max(1, Number(process.env.VNBT_TEST_LANES ?? 2) || 1);

function runFiles(list: string[], concurrency: number): number {
    if (list.length === 0)
        return 0;
    const result = spawnSync(process.execPath, [
        "--import", "tsx", "--test", `--test-concurrency=${concurrency}`, "--test-reporter=spec", ...list,
    ], { cwd: root, stdio: "inherit" });
    return result.status ?? 1;
}

async function main(): Promise<number> {
    const sources = new Map(files.map(f => [f, fs.readFileSync(path.join(root, f), "utf8")]));
    const needsLibvirt = files.some(f => !unit.includes(f));
    const stopLibvirtd = needsLibvirt ? await ensureLibvirtd() : async () => {};
    if (needsLibvirt)
        await TestVm.removeStale(); // VMs of test processes that died
    fs.mkdirSync(path.join(root, "test-artifacts"), { recursive: true });
    const stopCron = files.some(f => usesCron(sources.get(f)!)) ? await ensureCron() : async () => {};
    try {
        if (files.some(f => usesGuestImage(sources.get(f)!))) {
            const image = await guestImage();
            if (image.buildSeconds > 0)
                console.log(`built the test guest image in ${image.buildSeconds} s`);
        }
        // One build for every file (test/lib/build.ts): two files building dist/ at once would rewrite it under
        // each other's cockpit-ws and helper processes. `npm test` has just built it and says so.
        if (needsLibvirt && process.env.VNBT_DIST_BUILT !== "1") {
            const built = spawnSync(process.execPath, ["build.mjs"], { cwd: root, stdio: "inherit" });
            if (built.status !== 0)
                throw new Error("node build.mjs failed");
        }
        process.env.VNBT_DIST_BUILT = "1";
        const alone = files.filter(f => runsAlone(sources.get(f)!));
        const together = files.filter(f => !alone.includes(f));
        const started = Date.now();
        const first = runFiles(together, lanes);
        const minutes = (Date.now() - started) / 60_000;
        console.log(`\n${together.length} files, ${lanes} at a time: ${minutes.toFixed(1)} min; now ${alone.length} that run alone`);
        const second = runFiles(alone, 1);
        console.log(`all tests: ${((Date.now() - started) / 60_000).toFixed(1)} min`);
        return first || second;
    } finally {
        await stopCron();
        await stopLibvirtd();
    }
}

main().then(code => { process.exitCode = code }, err => {
    console.error(err);
    process.exitCode = 1;
});
