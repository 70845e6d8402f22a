// SPDX-License-Identifier: GPL-3.0-or-later
// A restore stopped by SIGTERM in the middle of the copy exits != 0, leaves no image (final or partial),
// no qemu-img convert and no mapping (nbdkit, its folder) behind.
// Runs alone: it counts the mappings made in the host's maps folder during its restore.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runOk } from "../lib/exec.ts";
import { ensureLibvirtd } from "../lib/libvirtd.ts";
import { TestVm } from "../lib/vm.ts";
import { ourCli, PY_BACKUP } from "../lib/backup-cli.ts";
import { MAPS_DIR } from "../../helper/map/map-dirs.ts";

let stopLibvirtd: () => Promise<void> = async () => {};
let tmp = "";

before(async () => {
    stopLibvirtd = await ensureLibvirtd();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-interrupt-`));
});

after(async () => {
    await TestVm.cleanupAll();
    fs.rmSync(tmp, { recursive: true, force: true });
    await stopLibvirtd();
});

/** pids of `program` processes whose command line mentions `needle`. */
function processesWith(program: string, needle: string): number[] {
    const pids: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry))
            continue;
        try {
            const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
            if (path.basename(cmd[0] ?? "") === program && cmd.some(a => a.includes(needle)))
                pids.push(Number(entry));
        } catch {
            // gone meanwhile
        }
    }
    return pids;
}

const mappings = () => fs.existsSync(MAPS_DIR) ? fs.readdirSync(MAPS_DIR) : [];

test("SIGTERM in the middle of a restore leaves no image, no convert and no mapping", async () => {
    const vm = await TestVm.create({ disks: [{ size: "512M", writes: [{ offset: "16M", length: "448M", random: true, seed: 5 }] }] });
    const backup = path.join(tmp, "backup");
    await runOk(PY_BACKUP, ["-d", vm.name, "-l", "full", "-o", backup, "-n"], { timeoutMs: 300_000 });
    await vm.cleanup();

    const out = path.join(tmp, "out");
    const mappedBefore = mappings();
    const child = spawn(process.execPath, [ourCli("virtnbdrestore"), "-i", backup, "-o", out, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let signalled: { done: number; total: number } | undefined;
    let sawWriter = false;
    let mapped: string[] = [];
    child.stderr.on("data", (b: Buffer) => { stderr += b.toString(); });
    child.stdout.on("data", (b: Buffer) => {
        stdout += b.toString();
        for (const line of stdout.split("\n").slice(0, -1)) {
            const e = JSON.parse(line) as { event: string; done?: number; total?: number };
            if (!signalled && e.event === "progress" && e.done! > 0 && e.done! < e.total!) {
                signalled = { done: e.done!, total: e.total! };
                sawWriter = processesWith("qemu-img", out).length > 0;
                mapped = mappings().filter(m => !mappedBefore.includes(m));
                child.kill("SIGTERM");
            }
        }
    });
    const code = await new Promise<number | null>(resolve => child.on("close", c => resolve(c)));
    assert.ok(signalled, `the restore must be stopped mid-way (it ended first): ${stdout.slice(-300)}`);
    assert.ok(sawWriter, "qemu-img was writing the partial image when the signal came");
    assert.equal(mapped.length, 1, "the point was mapped");
    assert.notEqual(code, 0);
    assert.match(stderr, /cancelled by SIGTERM/);
    const left = fs.existsSync(out) ? fs.readdirSync(out) : [];
    assert.deepEqual(left, [], `nothing left in the output folder: ${left.join(", ")}`);
    assert.deepEqual(processesWith("qemu-img", out), [], "qemu-img stopped");
    assert.deepEqual(processesWith("nbdkit", path.join(MAPS_DIR, mapped[0])), [], "nbdkit stopped");
    assert.ok(!mappings().includes(mapped[0]), "the mapping's folder is gone");
    const last = JSON.parse(stdout.trim().split("\n").at(-1)!) as { event: string; message: string };
    assert.equal(last.event, "error");
});
