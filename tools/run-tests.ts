// SPDX-License-Identifier: GPL-3.0-or-later
// Runs every test file with node's test runner, one file at a time (the real-stack tests share one
// libvirtd and a 2-core machine). Usage: run-tests.ts [unit|realstack|FILE...]
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ensureLibvirtd } from "../test/lib/libvirtd.ts";
import { TestVm } from "../test/lib/vm.ts";

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

const args = process.argv.slice(2);
// Pure logic and the codec and file bindings: no libvirt, no servers.
const unit = [...find("test/unit"), ...find("codec-node/test"), ...find("fileio-node/test")];
const realstack = find("test/realstack");
let files: string[];
if (args.length === 0)
    files = [...unit, ...find("libnbd-node/test"), ...realstack];
else if (args[0] === "unit")
    files = unit;
else if (args[0] === "realstack")
    files = [...find("libnbd-node/test"), ...realstack];
else
    files = args;

async function main(): Promise<number> {
    const needsLibvirt = files.some(f => !unit.includes(f));
    const stopLibvirtd = needsLibvirt ? await ensureLibvirtd() : async () => {};
    if (needsLibvirt)
        await TestVm.removeStale(); // VMs of test processes that died
    fs.mkdirSync(path.join(root, "test-artifacts"), { recursive: true });
    try {
        const result = spawnSync(process.execPath, [
            "--import", "tsx", "--test", "--test-concurrency=1", "--test-reporter=spec", ...files,
        ], { cwd: root, stdio: "inherit" });
        return result.status ?? 1;
    } finally {
        await stopLibvirtd();
    }
}

main().then(code => { process.exitCode = code }, err => {
    console.error(err);
    process.exitCode = 1;
});
