// SPDX-License-Identifier: GPL-3.0-or-later
// virtnbdprune on a real folder of two chains made by our virtnbdbackup from a libvirt test VM: the dry run
// (the default) changes nothing, byte for byte; --yes removes the old chain and merges the old points of the
// new one away, and every point left restores exactly (ours and the real virtnbdrestore, qemu-img compare).
// Refused with a clear message and nothing changed: bad values, the VM's job lock held, and chains or points
// a live mapping (virtnbdmap) reads, by virtnbdprune, by the page's prune/consolidate/delete-chain; the
// scheduled retention skips them with a warning instead. SIGTERM at a --yes merge's first progress event
// stops it with one line, the folder as before and every point restorable; the next run completes it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { run } from "../lib/exec.ts";
import { compareImages, type TestVm } from "../lib/vm.ts";
import { ourBackupOk, ourCli, ourRestoreOk, pyRestore, runHelper as helper } from "../lib/backup-cli.ts";
import { startMap } from "../lib/map-cli.ts";
import { testBed } from "../lib/test-bed.ts";
import { lockJob } from "../../helper/backup/lock.ts";
import { pruneAfterSchedule } from "../../helper/jobs/scheduled-prune.ts";
import type { BackupJobState } from "../../helper/protocol/job-types.ts";

const bed = testBed({ name: "prune-cli" });
let vm: TestVm;
let uuid = "";
let work = "";
let folder = "";

interface Point { chain: string; checkpoint: string; expected: string }
const points: Point[] = [];

bed.before(async () => {
    work = bed.work;
    folder = path.join(work, "vm");
    vm = await bed.vm({ disks: [{ size: "64M", writes: [{ offset: "1M", length: "3M", random: true, seed: 3 }] }] });
    uuid = bed.uuid(vm);
    // Two chains: the folder itself (full + 2 inc), chain-2 (full + 3 inc); a guest write before each backup.
    let seed = 10;
    for (const [chain, levels] of [["", ["full", "inc", "inc"]], ["chain-2", ["full", "inc", "inc", "inc"]]] as const) {
        for (const [i, level] of levels.entries()) {
            seed++;
            await vm.write(0, { offset: `${(seed % 20) + 6}M`, length: "1M", random: true, seed });
            await ourBackupOk(["-d", vm.name, "-l", level, "-o", path.join(folder, chain)]);
            points.push({ chain, checkpoint: `virtnbdbackup.${i}`, expected: await vm.snapshotExpected(0, `${chain || "first"}-${i}`) });
        }
    }
    fs.writeFileSync(path.join(folder, "NOTES.user"), "mine\n");
});

function prune(args: string[]) {
    return run(process.execPath, [ourCli("virtnbdprune"), "-o", folder, ...args], { timeoutMs: 120_000 });
}

/** Every file under the folder with its SHA-256. */
function checksums(dir = folder): Record<string, string> {
    const sums: Record<string, string> = {};
    for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
        const file = path.join(e.parentPath, e.name);
        if (e.isFile())
            sums[path.relative(dir, file)] = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    }
    return sums;
}

test("refused, nothing changed: bad values, the VM's job lock held, chains and points a mapping reads", { timeout: 300_000 }, async () => {
    const before = checksums();
    for (const [flag, bad, why] of [["--keep-last", "0", /at least the newest chain/], ["--keep-last", "-1", /at least the newest chain/],
                                    ["--keep-last", "abc", /not a whole number/], ["--keep-last", "5000", /at most 1000/],
                                    ["--keep-points", "0", /./], ["--keep-daily", "1.5", /./]] as const) {
        const r = await prune([flag, bad, "--yes"]);
        assert.equal(r.code, 1, `${flag} ${bad} accepted`);
        assert.match(r.stderr, new RegExp(`option '${flag} <n>' argument '${bad.replace(".", "\\.")}' is invalid`));
        assert.match(r.stderr, why);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    const none = await prune(["--yes"]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /give what to keep/);
    const elsewhere = await run(process.execPath, [ourCli("virtnbdprune"), "-o", path.join(work, "nothing-here"), "--keep-last", "1", "--yes"]);
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stderr, /holds no backup/);
    assert.deepEqual(checksums(), before);

    // The VM's job lock (a backup, restore or verify of it runs): refused.
    const lock = await lockJob(uuid, vm.name);
    try {
        const r = await prune(["--keep-last", "1", "--keep-points", "1", "--yes"]);
        assert.equal(r.code, 1, r.stdout);
        assert.match(r.stderr, new RegExp(`another backup or restore job is running for ${vm.name} \\(process ${process.pid}\\)`));
    } finally {
        lock.release();
    }
    assert.deepEqual(checksums(), before);

    // A mapping of the first chain's newest point: that chain is not removed, by anyone.
    const first = await startMap(["-i", folder, "-u", "virtnbdbackup.2"]);
    try {
        const reads = `virtnbdmap \\(process ${first.child.pid}\\) reads the chain in the folder itself`;
        const who = new RegExp(`${reads}: nothing was changed`);
        for (const args of [["--keep-last", "1", "--yes"], ["--keep-last", "1", "--keep-points", "1", "--yes"]]) {
            const r = await prune(args);
            assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}`);
            assert.match(r.stderr, who);
        }
        // The dry run words it as the page's previews do.
        const dryRun = await prune(["--keep-last", "1"]);
        assert.equal(dryRun.code, 1, dryRun.stdout);
        assert.match(dryRun.stderr, new RegExp(`^virtnbdprune: ${reads}: while it does, this is refused and would change nothing \\(stop it first, then try again\\)\n$`));
        // The page's commands on the VM's folder, and the schedule's retention.
        assert.equal((await helper(["set-settings", "--domain", vm.name, "--folder", folder, "--keep-chains", "1"])).code, 0);
        const page = await helper(["delete-chain", "--domain", vm.name, "--chain", "", "--yes"]);
        assert.equal(page.code, 1);
        assert.match(page.stderr, who);
        // The page's previews (dry runs) say what the real run would do.
        const preview = await helper(["delete-chain", "--domain", vm.name, "--chain", ""]);
        assert.equal(preview.code, 1);
        assert.match(preview.stderr, new RegExp(`${reads}: while it does, this is refused and would change nothing \\(stop it first`));
        const prunePreview = await helper(["prune", "--domain", vm.name]);
        assert.match(prunePreview.stderr, new RegExp(`${reads}: while it does, this is refused`));
        // The settings dialog's preview, as the schedule prunes: the chain in use is left out and named.
        const asScheduled = await helper(["prune", "--domain", vm.name, "--keep", "1", "--skip-in-use"]);
        assert.equal(asScheduled.code, 0, asScheduled.stderr);
        const skippedChains = JSON.parse(asScheduled.stdout) as { removed: unknown[]; skipped: { chain: string; reason: string }[] };
        assert.deepEqual(skippedChains.removed, []);
        assert.equal(skippedChains.skipped.length, 1);
        assert.match(skippedChains.skipped[0].reason, new RegExp(`^${reads}$`));
        const pruned = await helper(["prune", "--domain", vm.name, "--yes"]);
        assert.equal(pruned.code, 1);
        assert.match(pruned.stderr, who);
        const job = { kind: "backup", id: "t1", domain: vm.name, uuid, folder: path.join(folder, "chain-2"), state: "succeeded", pid: null, runnerPid: null,
            startedAt: Date.now(), updatedAt: Date.now(), disks: [], warnings: [], level: "auto", compress: false, scheduled: true } as BackupJobState;
        const scheduled = await pruneAfterSchedule(job);
        assert.ok(scheduled.warnings.some(w => new RegExp(`^an old chain was not removed: ${reads}$`).test(w)), scheduled.warnings.join("\n"));
        assert.deepEqual(scheduled.pruned?.chains, []);
        assert.deepEqual(checksums(), before);
        await first.stop();
        // chain-2 mapped: merging its points away, or deleting one of them, is refused.
        const second = await startMap(["-i", path.join(folder, "chain-2"), "-u", "virtnbdbackup.3"]);
        try {
            const busy = new RegExp(`virtnbdmap \\(process ${second.child.pid}\\) reads the points up to virtnbdbackup\\.2 of chain-2: nothing was changed`);
            const r = await prune(["--keep-points", "2", "--yes"]);
            assert.equal(r.code, 1, r.stdout);
            assert.match(r.stderr, busy);
            const merge = await helper(["consolidate", "--domain", vm.name, "--chain", "chain-2", "--until", "virtnbdbackup.2", "--yes"]);
            assert.equal(merge.code, 1);
            assert.match(merge.stderr, busy);
            const pointsPreview = await helper(["prune", "--domain", vm.name, "--keep-points", "2", "--skip-in-use"]);
            assert.equal(pointsPreview.code, 0, pointsPreview.stderr);
            const policy = (JSON.parse(pointsPreview.stdout) as { points: { chain: string; dropped: string[]; skipped: string[] }[] }).points;
            const chain2 = policy.find(c => c.chain === "chain-2");
            assert.ok(chain2 && chain2.dropped.length === 0 && chain2.skipped.some(r => new RegExp(busy.source.replace(": nothing was changed", "")).test(r)), pointsPreview.stdout);
        } finally {
            await second.stop();
        }
        assert.deepEqual(checksums(), before);
    } finally {
        await first.stop();
        await helper(["set-settings", "--domain", vm.name, "--folder", folder, "--keep-chains", "all"]);
    }
});

test("a dry run by default changes nothing and says exactly what --yes removes; every point left restores exactly", { timeout: 300_000 }, async () => {
    const before = checksums();
    const text = await prune(["--keep-last", "1", "--keep-points", "2", "-v"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^dry run: nothing is changed \(--yes does it\)$/m);
    assert.match(text.stdout, /^would remove the chain in the folder itself: \d+ files, [\d.]+ MiB$/m);
    assert.match(text.stdout, /^chain-2: would merge away points virtnbdbackup\.0, virtnbdbackup\.1, freeing about [\d.]+ MiB/m);
    assert.match(text.stdout, /^would free about [\d.]+ MiB in all$/m);
    assert.match(text.stdout, /^ {2}vda\.full\.data$/m);
    assert.match(text.stdout, /^ {2}chain-2\/vda\.inc\.virtnbdbackup\.1\.data$/m);
    const dry = await prune(["--keep-last", "1", "--keep-points", "2", "--json"]);
    assert.equal(dry.code, 0, dry.stderr);
    interface Answer { dryRun: boolean; freed: number; chains: { removed: { name: string; files: string[] }[]; kept: string[]; freed: number };
                       points: { chain: string; dropped: string[]; removed: string[] }[] }
    const plan = JSON.parse(dry.stdout) as Answer;
    assert.equal(plan.dryRun, true);
    assert.deepEqual(plan.chains.removed.map(c => c.name), [""]);
    assert.deepEqual(plan.chains.kept, ["chain-2"]);
    assert.deepEqual(plan.points.map(p => [p.chain, p.dropped]), [["chain-2", ["virtnbdbackup.0", "virtnbdbackup.1"]]]);
    assert.deepEqual(checksums(), before, "the dry run changed the folder");

    const act = await prune(["--keep-last", "1", "--keep-points", "2", "--yes", "--json"]);
    assert.equal(act.code, 0, act.stderr);
    // Progress events of the merge (bytes of the new full), then the result.
    const lines = act.stdout.trim().split("\n").map(l => JSON.parse(l) as Record<string, unknown>);
    const progress = lines.slice(0, -1) as { event: string; chain: string; point: string; done: number; total: number }[];
    assert.ok(progress.length > 0 && progress.every(e => e.event === "progress" && e.chain === "chain-2" && e.point === "virtnbdbackup.2" && e.done <= e.total), act.stdout);
    assert.equal(progress.at(-1)!.done, progress.at(-1)!.total);
    const done = lines.at(-1) as unknown as Answer;
    assert.equal(done.dryRun, false);
    assert.equal(done.chains.freed, plan.chains.freed);
    // Exactly the files the dry run named are gone; the user's note stays; one new full came.
    const after = checksums();
    const named = [...plan.chains.removed.flatMap(c => c.files), ...plan.points.flatMap(p => p.removed.map(f => `chain-2/${f}`))].sort();
    assert.deepEqual(Object.keys(before).filter(f => !(f in after)).sort(), named);
    assert.deepEqual(Object.keys(after).filter(f => !(f in before)).filter(f => !f.endsWith(".chksum")), ["chain-2/vda.full.virtnbdbackup.2.data"]);
    assert.equal(fs.readFileSync(path.join(folder, "NOTES.user"), "utf8"), "mine\n");
    for (const p of points.slice(5))
        await restoresExactly(p);
    // What is gone is gone: the merged-away points are refused by name.
    const gone = await run(process.execPath, [ourCli("virtnbdrestore"), "--noprogress", "-i", path.join(folder, "chain-2"), "-o", path.join(work, "gone"), "-u", "virtnbdbackup.1"]);
    assert.notEqual(gone.code, 0);
});

test("SIGTERM during a --yes merge: one line, exit 1, the folder as before and every point restorable; the next run completes it", { timeout: 300_000 }, async () => {
    // Two more points of chain-2, the first with most of the disk new: a merge up to it copies and reads back
    // 56 MiB, far longer than the kill at its first progress event (1 MiB done) takes to arrive.
    for (const [i, length] of [[4, "56M"], [5, "1M"]] as const) {
        await vm.write(0, { offset: "4M", length, random: true, seed: 40 + i });
        await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", path.join(folder, "chain-2")]);
        points.push({ chain: "chain-2", checkpoint: `virtnbdbackup.${i}`, expected: await vm.snapshotExpected(0, `chain-2-${i}`) });
    }
    const before = checksums();
    const child = spawn(process.execPath, [ourCli("virtnbdprune"), "-o", folder, "--keep-points", "2", "--yes", "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let progress: { chain: string; point: string; done: number; total: number } | undefined;
    child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        const first = stdout.split("\n").find(l => l.includes('"event":"progress"'));
        if (first && !progress) {
            progress = JSON.parse(first) as typeof progress;
            child.kill("SIGTERM");
        }
    });
    child.stderr.on("data", (d: Buffer) => stderr += d.toString());
    const code = await new Promise<number | null>(resolve => child.on("close", resolve));
    assert.deepEqual(progress && [progress.chain, progress.point, progress.done > 0, progress.total >= progress.done], ["chain-2", "virtnbdbackup.4", true, true], stdout);
    assert.equal(code, 1, `not stopped: ${stdout}${stderr}`);
    assert.equal(stderr, "virtnbdprune: cancelled by SIGTERM: the merge under way was undone, merges done before it stay (run it again to go on)\n");
    assert.match(stdout.trim().split("\n").at(-1)!, /^\{"event":"error","message":"cancelled by SIGTERM: /);
    assert.deepEqual(checksums(), before, "the stopped merge changed the folder");
    for (const p of points.filter(p => p.chain === "chain-2" && p.checkpoint >= "virtnbdbackup.2")) {
        const out = path.join(work, `stopped-${p.checkpoint}`);
        await ourRestoreOk(["-i", path.join(folder, "chain-2"), "-o", out, "-u", p.checkpoint]);
        const cmp = await compareImages(path.join(out, path.basename(vm.disks[0].path)), p.expected);
        assert.ok(cmp.identical, `${p.checkpoint} after the stop: ${cmp.output}`);
        fs.rmSync(out, { recursive: true, force: true });
    }
    const again = await prune(["--keep-points", "2", "--yes"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^chain-2: merged away points virtnbdbackup\.2, virtnbdbackup\.3/m);
    for (const p of points.slice(-2))
        await restoresExactly(p);
});

async function restoresExactly(p: Point): Promise<void> {
    const dir = path.join(folder, p.chain);
    for (const [tool, restore] of [["ours", ourRestoreOk], ["virtnbdrestore", pyRestore]] as const) {
        const out = path.join(work, `${tool}-${p.chain || "first"}-${p.checkpoint}`);
        await restore(["-i", dir, "-o", out, "-u", p.checkpoint]);
        const cmp = await compareImages(path.join(out, path.basename(vm.disks[0].path)), p.expected);
        assert.ok(cmp.identical, `${tool}, ${p.chain || "first chain"} ${p.checkpoint}: ${cmp.output}`);
        fs.rmSync(out, { recursive: true, force: true });
    }
}
