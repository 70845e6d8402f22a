// SPDX-License-Identifier: GPL-3.0-or-later
// Builds one of the benchmark's fragmented chains (full of a blank disk, then --incs rounds of new data in every
// extent, one inc each) and keeps it with the disk as it was at the newest point, for restore experiments by
// hand: <dir>/chain, <dir>/expected.raw.
//   node --import tsx bench/experiments/keep-chain.ts --dir=/var/tmp/x [--case=4000] [--incs=2] [-z]
import fs from "node:fs";
import path from "node:path";
import { runOk } from "../../test/lib/exec.ts";
import { ensureLibvirtd } from "../../test/lib/libvirtd.ts";
import { TestVm } from "../../test/lib/vm.ts";
import { cleanupAll, cleanupOnSignals, onCleanup } from "../lib/cleanup.ts";
import { dirtyExtents, FRAGMENTED_FULL } from "../lib/fragmented.ts";
import { deleteAllCheckpoints } from "../lib/tools.ts";

const arg = (name: string) => process.argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3);

async function main() {
    cleanupOnSignals();
    const dir = arg("dir");
    if (!dir)
        throw new Error("--dir=<folder> is required");
    const c = FRAGMENTED_FULL.find(x => x.name.includes(arg("case") ?? "4000"))!;
    const incs = Number(arg("incs") ?? 2);
    const compress = process.argv.includes("-z");
    onCleanup("libvirtd", await ensureLibvirtd());
    const vm = await TestVm.create({ disks: [{ size: c.diskSize }] });
    onCleanup("VM", () => vm.cleanup());
    const chain = path.join(dir, "chain");
    fs.mkdirSync(dir, { recursive: true });
    const cli = path.resolve(import.meta.dirname, "../../dist/helper/virtnbdbackup.js");
    const backup = (level: string) => runOk(process.execPath, [cli, "-d", vm.name, "-l", level, "-o", chain, "--noprogress", ...(compress ? ["-z"] : [])], { timeoutMs: 600_000 });
    await backup("full");
    for (let i = 0; i < incs; i++) {
        await dirtyExtents(vm, c);
        await backup("inc");
    }
    await runOk("cp", ["--sparse=always", vm.expectedPath(0), path.join(dir, "expected.raw")]);
    await deleteAllCheckpoints(vm.name);
}

main().then(() => cleanupAll(), async e => { console.error(e); await cleanupAll(); process.exit(1) });
