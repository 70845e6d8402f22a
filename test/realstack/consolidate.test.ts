// SPDX-License-Identifier: GPL-3.0-or-later
// Consolidation on real backups of a running two-disk VM: a full and 10 incrementals (live writes, zeroed
// ranges via qemu-io write -z), plain and lz4, merged up to a middle point with `helper consolidate`. Every
// remaining point restores byte-identical (qemu-img compare) with ours and with the real virtnbdrestore, the
// next incremental builds on the chain and restores exactly, and a consolidation killed (SIGKILL) at several
// moments leaves a folder whose points restore exactly, finished by the next run. Bad arguments change nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { spawn } from "node:child_process";
import { run } from "../lib/exec.ts";
import { compareImages, type TestVm } from "../lib/vm.ts";
import { testBed } from "../lib/test-bed.ts";
import { ourBackupOk, ourCli, ourRestore, ourRestoreOk, pyRestore } from "../lib/backup-cli.ts";

const HELPER = path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");
const CHILD = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../lib/consolidate-child.ts");
const INCS = 10;

const bed = testBed({ name: "consolidate" });
let vm: TestVm;
let uuid = "";
let work = "";
let restores = 0;

bed.before(async () => {
    work = bed.work;
    vm = await bed.vm({
        disks: [
            { size: "192M", writes: [
                { offset: "0", length: "48M", random: true, seed: 11 },
                { offset: "64M", length: "24M", text: "consolidate me, keep me exact. " },
                { offset: "120M", length: "16M", pattern: 0x5a },
            ] },
            { size: "96M", writes: [{ offset: "1M", length: "24M", random: true, seed: 12 }] },
        ],
    });
    uuid = bed.uuid(vm);
});

function helper(args: string[]) {
    return run(process.execPath, [HELPER, ...args], { timeoutMs: 300_000 });
}

/** Expected images per point: [vda, vdb]. */
type Expected = string[];

/** A full and INCS incrementals into `dir`, with live writes (random, patterns, zeroed ranges) before each inc. */
async function makeChain(dir: string, z: string[], label: string): Promise<Expected[]> {
    const points: Expected[] = [];
    const snap = async (n: number) => points.push([await vm.snapshotExpected(0, `${label}${n}`), await vm.snapshotExpected(1, `${label}${n}`)]);
    await ourBackupOk(["-d", vm.name, "-l", "full", "-o", dir, ...z]);
    await snap(0);
    for (let n = 1; n <= INCS; n++) {
        const seed = (label === "z" ? 500 : 100) + n;
        await vm.write(0, { offset: `${(n * 13) % 150}M`, length: "6M", random: true, seed });
        await vm.write(0, { offset: `${(n * 7) % 40}M`, length: "2M", zero: true });
        await vm.write(1, { offset: `${(n * 5) % 60}M`, length: "3M", random: true, seed: seed + 1000 });
        if (n % 3 === 0)
            await vm.write(1, { offset: `${(n * 3) % 20}M`, length: "1M", zero: true });
        await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", dir, ...z]);
        await snap(n);
    }
    return points;
}

/** Restores point `n` (undefined: the newest) with ours or the real virtnbdrestore and compares both disks. */
async function assertRestores(tool: "ours" | "python", dir: string, expected: Expected, n: number | undefined, label: string) {
    const out = path.join(work, `restore-${++restores}`);
    const args = ["-i", dir, "-o", out, ...(n === undefined ? [] : ["-u", `virtnbdbackup.${n}`])];
    await (tool === "ours" ? ourRestoreOk(args) : pyRestore(args));
    for (let i = 0; i < 2; i++) {
        const result = await compareImages(path.join(out, path.basename(vm.disks[i].path)), expected[i]);
        assert.ok(result.identical, `${label}, ${tool}, point ${n ?? "newest"}, ${vm.disks[i].dev}: ${result.output}`);
    }
    fs.rmSync(out, { recursive: true, force: true });
}

function copyFolder(dir: string, name: string): string {
    const copy = path.join(work, name);
    fs.cpSync(dir, copy, { recursive: true, preserveTimestamps: true });
    return copy;
}

interface MergeLine { event?: string; chain?: string; point?: string; file?: string; index?: number; count?: number; done?: number; total?: number }

/**
 * `helper consolidate ... --yes --progress` as the page runs it: progress lines on stdout, the answer last;
 * `cancelAt` decides on each progress line whether to close its stdin now (the page's Cancel).
 */
function pageMerge(args: string[], cancelAt: (line: MergeLine) => boolean, how: "stdin" | "SIGTERM" = "stdin", command = "consolidate"):
        Promise<{ code: number | null; stderr: string; progress: MergeLine[]; last: string; cancelledAt?: MergeLine }> {
    const child = spawn(process.execPath, [HELPER, command, "--domain", vm.name, ...args, "--yes", "--progress"], { stdio: ["pipe", "pipe", "pipe"] });
    const progress: MergeLine[] = [];
    let cancelledAt: MergeLine | undefined;
    let stderr = "";
    let last = "";
    child.stderr.on("data", (b: Buffer) => { stderr += b.toString() });
    readline.createInterface({ input: child.stdout }).on("line", text => {
        const line = JSON.parse(text) as MergeLine;
        if (line.event !== "progress") {
            last = text;
            return;
        }
        progress.push(line);
        if (!cancelledAt && cancelAt(line)) {
            cancelledAt = line;
            if (how === "stdin")
                child.stdin.end();
            else
                child.kill("SIGTERM");  // what the bridge sends when the page goes away
        }
    });
    return new Promise(resolve => child.on("close", code => resolve({ code, stderr, progress, last, cancelledAt })));
}

function folderState(dir: string): string[] {
    return fs.readdirSync(dir).sort().map(n => `${n}:${fs.statSync(path.join(dir, n)).mtimeMs}`);
}

test("plain: SIGKILL at several moments leaves every point restorable; consolidation keeps points 4..10 exact; the next inc builds on it", async () => {
    const dir = path.join(work, "plain");
    const points = await makeChain(dir, [], "p");

    // Killed at five moments, each on a copy of the chain: what existed restores exactly, before and after the recovery.
    const moments: [string, number, boolean][] = [["copy", 1, false], ["written", 1, false], ["committed", 1, true], ["moved", 1, true], ["removed", 1, true]];
    for (const [moment, nth, committed] of moments) {
        const copy = copyFolder(dir, `kill-${moment}`);
        const killed = await run(process.execPath, ["--import", "tsx", CHILD, copy, "virtnbdbackup.4", moment, String(nth)], { timeoutMs: 120_000 });
        assert.equal(killed.signal, "SIGKILL", `${moment}: ${killed.stdout} ${killed.stderr}`);
        // Nothing unfinished looks like a backup file: staged files are only in the staging folder.
        assert.ok(!fs.readdirSync(copy).some(n => n.endsWith(".partial")), moment);
        // Ours restores every point that still exists from the files as they were left.
        for (const n of committed ? [4, INCS] : [0, 4, INCS])
            await assertRestores("ours", copy, points[n], n, `killed at ${moment}`);
        if (moment !== "removed")
            await assertRestores("python", copy, points[INCS], undefined, `killed at ${moment}`);
        const recovered = await run(process.execPath, ["--import", "tsx", CHILD, copy, "", "recover"]);
        assert.equal(recovered.stdout.trim(), committed ? "forward" : "back", moment);
        await assertRestores("python", copy, points[4], 4, `recovered after ${moment}`);
        await assertRestores("ours", copy, points[INCS], undefined, `recovered after ${moment}`);
        assert.equal(fs.existsSync(path.join(copy, "vda.full.data")), !committed, moment);
        fs.rmSync(copy, { recursive: true, force: true });
    }

    // Through the helper, as the page runs it: the VM's folder from its settings, a dry run first.
    const set = await helper(["set-settings", "--domain", vm.name, "--folder", dir, "--schedule", "off"]);
    assert.equal(set.code, 0, set.stderr);
    const before = folderState(dir);
    for (const bad of [["--keep-points", "0"], ["--keep-points", "-1"], ["--keep-points", "99999999"], ["--keep-points", "x"],
                       ["--until", "../etc"], ["--until", "virtnbdbackup.10"], ["--until", "virtnbdbackup.0"],
                       ["--chain", "../other", "--until", "virtnbdbackup.4"], ["--chain", "chain-7", "--until", "virtnbdbackup.4"], []]) {
        const r = await helper(["consolidate", "--domain", vm.name, ...bad, "--yes"]);
        assert.notEqual(r.code, 0, `${bad.join(" ")} is refused`);
        assert.match(r.stderr, /^helper: .+\n$/, `${bad.join(" ")}: one line`);
    }
    const dry = await helper(["consolidate", "--domain", vm.name, "--until", "virtnbdbackup.4"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(folderState(dir), before, "refusals and the dry run change nothing");
    assert.match(dry.stderr, /would merge the points before virtnbdbackup\.4 \(from virtnbdbackup\.0\) .*dry run/);

    // As the page runs it: progress lines as the new fulls are written, and Cancel (its input closed) in the
    // middle of the first one undoes it: the folder is exactly as before, nothing staged or unfinished is left,
    // and every point still restores exactly.
    const cancelled = await pageMerge(["--until", "virtnbdbackup.4"], line => (line.done ?? 0) < (line.total ?? 0));
    assert.ok(cancelled.cancelledAt, `cancelled mid-merge: ${JSON.stringify(cancelled.progress)} ${cancelled.stderr}`);
    assert.deepEqual([cancelled.cancelledAt.chain, cancelled.cancelledAt.point, cancelled.cancelledAt.count], ["", "virtnbdbackup.4", 2]);
    assert.match(cancelled.cancelledAt.file ?? "", /^vd[ab]\.full\.virtnbdbackup\.4\.data$/);
    assert.notEqual(cancelled.code, 0, cancelled.last);
    assert.match(cancelled.stderr, /^helper: cancelled: the merge was undone, the chain is as it was\n$/);
    assert.deepEqual(folderState(dir), before, "a cancelled merge changes nothing");
    assert.ok(!fs.readdirSync(dir).some(n => n.startsWith(".virtnbdbackup.consolidate") || n.endsWith(".partial")), fs.readdirSync(dir).join(" "));
    for (let n = 0; n <= INCS; n++)
        await assertRestores("ours", dir, points[n], n, "after a cancelled merge");
    await assertRestores("python", dir, points[INCS], undefined, "after a cancelled merge");
    await assertRestores("python", dir, points[0], 0, "after a cancelled merge");

    // Followed to its end, the progress reaches each new file's size, one file after the other.
    const followed = await pageMerge(["--until", "virtnbdbackup.4"], () => false);
    assert.equal(followed.code, 0, followed.stderr);
    for (const index of [0, 1]) {
        const lines = followed.progress.filter(l => l.index === index);
        assert.ok(lines.length >= 2, `file ${index}: ${JSON.stringify(followed.progress)}`);
        assert.equal(lines.at(-1)!.done, lines.at(-1)!.total, `file ${index} ends at its total`);
        assert.ok(lines.every((l, i) => i === 0 || l.done! >= lines[i - 1].done!), `file ${index} only goes forward`);
    }
    const done = { code: followed.code, stdout: followed.last, stderr: followed.stderr };
    assert.equal(done.code, 0, done.stderr);
    const answer = JSON.parse(done.stdout) as { dropped: string[]; freed: number };
    assert.deepEqual(answer.dropped, [0, 1, 2, 3].map(n => `virtnbdbackup.${n}`));
    assert.deepEqual(JSON.parse(dry.stdout).dropped, answer.dropped);
    assert.ok(answer.freed > 0, String(answer.freed));
    assert.ok(!fs.existsSync(path.join(dir, "vda.full.data")) && fs.existsSync(path.join(dir, "vda.full.virtnbdbackup.4.data")));

    for (let n = 4; n <= INCS; n++) {
        await assertRestores("ours", dir, points[n], n, "plain");
        await assertRestores("python", dir, points[n], n, "plain");
    }
    const gone = await ourRestore(["-i", dir, "-o", path.join(work, "gone"), "-u", "virtnbdbackup.2"]);
    assert.notEqual(gone.code, 0, "a merged-away point is refused");
    assert.match(gone.stderr, /virtnbdbackup\.2/);
    const verify = await ourRestore(["-i", dir, "-o", "verify", "-a", "verify"]);
    assert.equal(verify.code, 0, verify.stderr);

    // Middle points: incs 6..8 become one inc of 8 (points 6 and 7 go). Killed after the merged file replaced
    // inc 8, the real virtnbdrestore restores exactly already; the recovery finishes it.
    const copy = copyFolder(dir, "kill-middle");
    const killed = await run(process.execPath, ["--import", "tsx", CHILD, copy, "virtnbdbackup.8", "moved", "1", "virtnbdbackup.6"], { timeoutMs: 120_000 });
    assert.equal(killed.signal, "SIGKILL", `${killed.stdout} ${killed.stderr}`);
    await assertRestores("python", copy, points[INCS], undefined, "middle merge killed");
    await assertRestores("python", copy, points[8], 8, "middle merge killed");
    await assertRestores("ours", copy, points[5], 5, "middle merge killed");
    assert.equal((await run(process.execPath, ["--import", "tsx", CHILD, copy, "", "recover"])).stdout.trim(), "forward");
    await assertRestores("ours", copy, points[8], 8, "middle merge recovered");
    fs.rmSync(copy, { recursive: true, force: true });
    const middle = await helper(["consolidate", "--domain", vm.name, "--from", "virtnbdbackup.6", "--until", "virtnbdbackup.8", "--yes"]);
    assert.equal(middle.code, 0, middle.stderr);
    assert.deepEqual(JSON.parse(middle.stdout).dropped, ["virtnbdbackup.6", "virtnbdbackup.7"]);
    for (const n of [5, 8, 9]) {
        await assertRestores("ours", dir, points[n], n, "middle merged");
        await assertRestores("python", dir, points[n], n, "middle merged");
    }

    // The chain goes on: the next incremental builds on virtnbdbackup.10 and restores exactly.
    await vm.write(0, { offset: "30M", length: "4M", random: true, seed: 999 });
    await vm.write(1, { offset: "2M", length: "1M", zero: true });
    await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", dir]);
    const next = [await vm.snapshotExpected(0, "pnext"), await vm.snapshotExpected(1, "pnext")];
    assert.ok(fs.existsSync(path.join(dir, "vda.inc.virtnbdbackup.11.data")));
    await assertRestores("ours", dir, next, undefined, "next inc");
    await assertRestores("python", dir, next, undefined, "next inc");
    await assertRestores("python", dir, points[5], 5, "after the next inc");
});

test("lz4: the retention setting 'keep the last 6 points' (helper prune) keeps them exact with both restorers", async () => {
    const dir = path.join(work, "lz4");
    const points = await makeChain(dir, ["-z"], "z");
    const set = await helper(["set-settings", "--domain", vm.name, "--folder", dir, "--schedule", "off", "--keep-points", "6"]);
    assert.equal(set.code, 0, set.stderr);
    const stored = fs.readFileSync(`/etc/cockpit-virtnbdbackup/vms/${uuid}.json`, "utf8");
    for (const bad of ["0", "-3", "100000", "x"]) {
        const r = await helper(["set-settings", "--domain", vm.name, "--folder", dir, "--keep-points", bad]);
        assert.equal(r.code, 1, `--keep-points ${bad} is refused`);
        assert.match(r.stderr, /^helper: --keep-points: .*restore point.*\n$/);
    }
    assert.equal(fs.readFileSync(`/etc/cockpit-virtnbdbackup/vms/${uuid}.json`, "utf8"), stored, "refused settings change nothing");
    const before = folderState(dir);
    const dry = await helper(["prune", "--domain", vm.name]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /would merge away points virtnbdbackup\.0, .*virtnbdbackup\.4, freeing about .*dry run/);
    assert.deepEqual(folderState(dir), before, "a dry run changes nothing");
    // Stopped by SIGTERM in the middle of its merge (the page's channel closed): undone, nothing else changed.
    const stopped = await pageMerge([], line => (line.done ?? 0) < (line.total ?? 0), "SIGTERM", "prune");
    assert.ok(stopped.cancelledAt, `stopped mid-merge: ${JSON.stringify(stopped.progress)} ${stopped.stderr}`);
    assert.equal(stopped.cancelledAt.point, "virtnbdbackup.5");
    assert.notEqual(stopped.code, 0);
    assert.match(stopped.stderr, /^helper: cancelled by SIGTERM: the merge under way was undone, what was done before it stays \(run it again to go on\)\n$/m);
    assert.deepEqual(folderState(dir), before, "a stopped merge changes nothing");
    assert.ok(!fs.readdirSync(dir).some(n => n.startsWith(".virtnbdbackup.consolidate") || n.endsWith(".partial")), fs.readdirSync(dir).join(" "));
    for (const n of [0, 3, INCS])
        await assertRestores("ours", dir, points[n], n, "lz4 after a stopped merge");
    const done = await helper(["prune", "--domain", vm.name, "--yes"]);
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual(JSON.parse(done.stdout).points[0].dropped, [0, 1, 2, 3, 4].map(n => `virtnbdbackup.${n}`));
    const head = fs.readFileSync(path.join(dir, "vda.full.virtnbdbackup.5.data")).subarray(0, 400).toString("latin1");
    assert.match(head, /"compressed": 2/);
    for (let n = 5; n <= INCS; n++) {
        await assertRestores("ours", dir, points[n], n, "lz4");
        await assertRestores("python", dir, points[n], n, "lz4");
    }
});
