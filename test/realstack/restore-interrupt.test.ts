// SPDX-License-Identifier: GPL-3.0-or-later
// A restore stopped by SIGTERM in the middle of the copy exits != 0 and leaves no image (final or partial)
// behind; so does one stopped by a second SIGTERM at once (exit 130, without waiting for what is in flight).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { runOk } from "../lib/exec.ts";
import { TestVm } from "../lib/vm.ts";
import { ourCli, PY_BACKUP } from "../lib/backup-cli.ts";
import { testBed } from "../lib/test-bed.ts";

const bed = testBed({ name: "interrupt", everyVm: true });
let tmp = "";

bed.before(() => {
    tmp = bed.work;
});

let backup = "";

/** The backup both tests restore: a 512 MiB disk with 448 MiB of data, so that the copy runs for a while. */
async function theBackup(): Promise<string> {
    if (!backup) {
        const vm = await TestVm.create({ disks: [{ size: "512M", writes: [{ offset: "16M", length: "448M", random: true, seed: 5 }] }] });
        backup = path.join(tmp, "backup");
        await runOk(PY_BACKUP, ["-d", vm.name, "-l", "full", "-o", backup, "-n"], { timeoutMs: 300_000 });
        await vm.cleanup();
    }
    return backup;
}

/**
 * Restores into `out` with --json and sends `signals` SIGTERMs once the copy is under way (the partial image
 * is being written); returns what the run said.
 */
async function interruptedRestore(out: string, signals: number) {
    const child = spawn(process.execPath, [ourCli("virtnbdrestore"), "-i", await theBackup(), "-o", out, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let signalled: { done: number; total: number } | undefined;
    let partial: string[] = [];
    child.stderr.on("data", (b: Buffer) => { stderr += b.toString(); });
    child.stdout.on("data", (b: Buffer) => {
        stdout += b.toString();
        for (const line of stdout.split("\n").slice(0, -1)) {
            const e = JSON.parse(line) as { event: string; done?: number; total?: number };
            if (!signalled && e.event === "progress" && e.done! > 0 && e.done! < e.total!) {
                signalled = { done: e.done!, total: e.total! };
                partial = fs.readdirSync(out).filter(f => f.endsWith(".partial"));
                void sendTerms(child.pid!, signals);
            }
        }
    });
    const code = await new Promise<number | null>(resolve => child.on("close", c => resolve(c)));
    assert.ok(signalled, `the restore must be stopped mid-way (it ended first): ${stdout.slice(-300)}`);
    assert.equal(partial.length, 1, `the partial image was being written when the signal came: ${partial.join(", ")}`);
    return { code, stdout, stderr };
}

/**
 * Sends `count` SIGTERMs to `pid`, each only once the one before was delivered (signals of one kind pending
 * together would arrive as one).
 */
async function sendTerms(pid: number, count: number): Promise<void> {
    const termPending = () => {
        try {
            const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
            return ["SigPnd", "ShdPnd"].some(f => (BigInt(`0x${new RegExp(`^${f}:\\s*([0-9a-f]+)`, "m").exec(status)?.[1] ?? "0"}`) & (1n << 14n)) !== 0n);
        } catch {
            return false;  // gone
        }
    };
    for (let i = 0; i < count; i++) {
        while (termPending())
            await new Promise(resolve => setImmediate(resolve));
        try {
            process.kill(pid, "SIGTERM");
        } catch {
            return;  // ended already: the test sees its exit code
        }
    }
}

function assertNothingLeft(out: string): void {
    const left = fs.existsSync(out) ? fs.readdirSync(out) : [];
    assert.deepEqual(left, [], `nothing left in the output folder: ${left.join(", ")}`);
}

test("SIGTERM in the middle of a restore leaves no image", async () => {
    const out = path.join(tmp, "out");
    const { code, stdout, stderr } = await interruptedRestore(out, 1);
    assert.notEqual(code, 0);
    assert.match(stderr, /cancelled by SIGTERM/);
    assertNothingLeft(out);
    const last = JSON.parse(stdout.trim().split("\n").at(-1)!) as { event: string; message: string };
    assert.equal(last.event, "error");
});

test("a second SIGTERM exits at once (130) and still leaves no image", async () => {
    const out = path.join(tmp, "out-forced");
    const { code } = await interruptedRestore(out, 2);
    assert.equal(code, 130);
    assertNothingLeft(out);
});
