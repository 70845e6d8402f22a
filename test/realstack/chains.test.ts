// SPDX-License-Identifier: GPL-3.0-or-later
// Chains in one VM backup folder, run the way the page and the schedule run them: the scheduled entry point
// (run-scheduled) and start-backup with level new-chain, and "keep the last 2 chains" applied after each
// scheduled backup. Ends with exactly the expected chains; every kept point restores exactly with ours and
// with the real virtnbdrestore on its chain folder; the removed chain's files are gone and a file the user
// put in the folder stays. Bad retention policies are refused and change nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ensureCron } from "../lib/cron.ts";
import { run } from "../lib/exec.ts";
import { compareImages, type TestVm } from "../lib/vm.ts";
import { ourCli, ourRestore, ourRestoreOk, pyRestore } from "../lib/backup-cli.ts";
import { testBed } from "../lib/test-bed.ts";

const HELPER = path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");

// The bed turns the VM's schedule off before its settings go, so that the cron file no longer names it.
const bed = testBed({ name: "chains" });
let vm: TestVm;
let uuid = "";
let work = "";
let folder = "";
let seed = 40;

bed.before(async () => {
    bed.onTeardown(await ensureCron());
    work = bed.work;
    folder = path.join(work, "backups");
    vm = await bed.vm({ disks: [{ size: "32M", writes: [{ offset: "1M", length: "3M", random: true, seed: 7 }] }] });
    uuid = bed.uuid(vm);
});

function helper(args: string[]) {
    return run(process.execPath, [HELPER, ...args], { timeoutMs: 120_000 });
}

interface JobState { id?: string; state?: string; level?: string; folder?: string; warnings?: string[]; message?: string; pruned?: { chains: string[]; freed: number } }

/** Starts a job with these helper arguments and waits for its end; the final state. */
async function runJob(args: string[]): Promise<JobState> {
    const started = await helper(args);
    assert.equal(started.code, 0, started.stderr);
    const id = JSON.parse(started.stdout).id as string;
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
        const job = JSON.parse((await helper(["job-status", "--domain", vm.name])).stdout) as JobState;
        // A scheduled job's state gets its pruning result after the backup's end: wait for the runner too.
        if (job.id === id && job.state !== "running" && !runnerAlive())
            return job;
        await new Promise(resolve => setTimeout(resolve, 1000));
    }
    throw new Error(`job ${args.join(" ")} did not end`);
}

function runnerAlive(): boolean {
    const state = JSON.parse(fs.readFileSync(`/run/cockpit-virtnbdbackup/jobs/${uuid}.json`, "utf8")) as { runnerPid: number | null };
    if (!state.runnerPid)
        return false;
    try {
        return fs.readFileSync(`/proc/${state.runnerPid}/cmdline`, "utf8").includes("run-job");
    } catch {
        return false;
    }
}

interface Point { chainFolder: string; checkpoint: string; expected: string; label: string }
const points: Point[] = [];

/** Guest writes, a backup through the helper, and the point it made with the disk's expected content. */
async function backup(label: string, args: string[]): Promise<JobState> {
    seed++;
    await vm.write(0, { offset: `${(seed % 24) + 4}M`, length: "1M", random: true, seed });
    const job = await runJob(args);
    assert.equal(job.state, "succeeded", `${label}: ${JSON.stringify(job)}`);
    const cpt = JSON.parse(fs.readFileSync(path.join(job.folder!, `${vm.name}.cpt`), "utf8")) as string[];
    points.push({ chainFolder: job.folder!, checkpoint: cpt.at(-1)!, expected: await vm.snapshotExpected(0, label), label });
    return job;
}

const scheduled = () => ["run-scheduled", "--uuid", uuid];
const newChain = () => ["start-backup", "--domain", vm.name, "--level", "new-chain"];

async function restoresExactly(p: Point) {
    const ours = path.join(work, `ours-${p.label}`);
    await ourRestoreOk(["-i", p.chainFolder, "-o", ours, "-u", p.checkpoint]);
    const a = await compareImages(path.join(ours, path.basename(vm.disks[0].path)), p.expected);
    assert.ok(a.identical, `ours, ${p.label} (${p.chainFolder} ${p.checkpoint}): ${a.output}`);
    const py = path.join(work, `py-${p.label}`);
    await pyRestore(["-i", p.chainFolder, "-o", py, "-u", p.checkpoint]);
    // With -u (not -s) it names the image as the saved VM config does.
    const b = await compareImages(path.join(py, path.basename(vm.disks[0].path)), p.expected);
    assert.ok(b.identical, `virtnbdrestore, ${p.label} (${p.chainFolder} ${p.checkpoint}): ${b.output}`);
    fs.rmSync(ours, { recursive: true, force: true });
    fs.rmSync(py, { recursive: true, force: true });
}

test("schedule with new chains and keep-last-2: the expected chains, every kept point exact, the user's file stays", { timeout: 900_000 }, async () => {
    const set = await helper(["set-settings", "--domain", vm.name, "--folder", folder, "--schedule", "daily", "--time", "03:17", "--keep-chains", "2"]);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(JSON.parse(set.stdout).keepChains, 2);
    fs.mkdirSync(folder, { mode: 0o700 });
    fs.writeFileSync(path.join(folder, "NOTES.txt"), "the user's own file\n");

    // Chain 1: the folder itself (as before chains existed).
    assert.equal((await backup("c1-full", scheduled())).folder, folder);
    assert.equal((await backup("c1-inc", scheduled())).folder, folder);
    // A full on a folder that holds backups starts chain-2 instead of failing.
    const c2 = await backup("c2-full", newChain());
    assert.equal(c2.folder, path.join(folder, "chain-2"));
    assert.equal(c2.level, "full");
    // Replacing the first chain's checkpoints is what a new chain means: an info line, not a warning.
    assert.ok(!c2.warnings!.some(w => /checkpoint/.test(w)), c2.warnings!.join("\n"));
    const log = fs.readdirSync(c2.folder!).find(n => n.startsWith("backup.full."))!;
    assert.match(fs.readFileSync(path.join(c2.folder!, log), "utf8"), new RegExp(`new chain: the earlier chain in ${folder} ends here`));
    // The first chain's points still restore, with the chain-2 subfolder beside its files.
    await restoresExactly(points[0]);
    await restoresExactly(points[1]);
    // Automatic backups continue the newest chain; two chains are within "keep 2".
    const c2inc = await backup("c2-inc", scheduled());
    assert.equal(c2inc.folder, path.join(folder, "chain-2"));
    assert.deepEqual(c2inc.pruned, { chains: [], freed: 0 });
    const c3 = await backup("c3-full", newChain());
    assert.equal(c3.folder, path.join(folder, "chain-3"));
    // The scheduled backup after it prunes the first chain (the folder's own files).
    const c3inc = await backup("c3-inc", scheduled());
    assert.equal(c3inc.folder, path.join(folder, "chain-3"));
    assert.deepEqual(c3inc.pruned?.chains, [""]);
    assert.ok(c3inc.pruned!.freed > 3 * 1048576, `freed ${c3inc.pruned!.freed}`);

    // Exactly the expected chains: the folder itself holds only the user's file and the two chains.
    assert.deepEqual(fs.readdirSync(folder).sort(), ["NOTES.txt", "chain-2", "chain-3"]);
    assert.equal(fs.readFileSync(path.join(folder, "NOTES.txt"), "utf8"), "the user's own file\n");
    const list = JSON.parse((await helper(["list-restore-points", "--domain", vm.name])).stdout) as {
        chains: { name: string; points: number; firstDate: string | null; lastDate: string | null; totalSize: number }[];
        points: { name: string; chain: string; complete: boolean }[];
    };
    assert.deepEqual(list.chains.map(c => [c.name, c.points]), [["chain-2", 2], ["chain-3", 2]]);
    assert.ok(list.chains.every(c => c.firstDate && c.lastDate && c.totalSize > 0));
    assert.deepEqual(list.points.map(p => `${p.chain}/${p.name}`), ["chain-2/virtnbdbackup.0", "chain-2/virtnbdbackup.1", "chain-3/virtnbdbackup.0", "chain-3/virtnbdbackup.1"]);
    for (const p of points.slice(2))
        await restoresExactly(p);
    // The folder itself holds no chain any more: our restore says where the chains are.
    const top = await ourRestore(["-i", folder, "-o", path.join(work, "top")]);
    assert.notEqual(top.code, 0);
    assert.match(top.stderr, new RegExp(`its chains are in subfolders: chain-2, chain-3 \\(restore one with -i ${folder}/chain-3\\)`));

    // Verify works on a point of an older chain, and names a chain the folder does not hold clearly.
    const verified = await helper(["verify-restore-point", "--domain", vm.name, "--chain", "chain-2", "--point", "virtnbdbackup.1"]);
    assert.equal(verified.code, 0, verified.stderr);
    const result = JSON.parse(verified.stdout.trim().split("\n").at(-1)!) as { ok: boolean; folder: string; files: unknown[] };
    assert.equal(result.ok, true, verified.stdout);
    assert.equal(result.folder, path.join(folder, "chain-2"));
    assert.equal(result.files.length, 2);
    const gone = await helper(["verify-restore-point", "--domain", vm.name, "--point", "virtnbdbackup.0"]);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /holds no chain in the folder itself/);
});

test("prune: a dry run by default that removes nothing, --yes removes; bad policies are refused and change nothing", { timeout: 300_000 }, async () => {
    const settingsBefore = (await helper(["get-settings", "--domain", vm.name])).stdout;
    const filesBefore = fs.readdirSync(folder).sort();
    for (const bad of ["0", "-1", "5000", "abc", "1.5"]) {
        const r = await helper(["set-settings", "--domain", vm.name, "--folder", folder, "--keep-chains", bad]);
        assert.notEqual(r.code, 0, `--keep-chains ${bad} accepted`);
        assert.match(r.stderr, /chains to keep/);
        const p = await helper(["prune", "--domain", vm.name, "--keep", bad, "--yes"]);
        assert.notEqual(p.code, 0, `prune --keep ${bad} accepted`);
        assert.match(p.stderr, /chains to keep/);
    }
    assert.equal((await helper(["get-settings", "--domain", vm.name])).stdout, settingsBefore);
    assert.deepEqual(fs.readdirSync(folder).sort(), filesBefore);

    const dry = await helper(["prune", "--domain", vm.name, "--keep", "1"]);
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout) as { dryRun: boolean; removed: { name: string; bytes: number }[]; kept: string[]; freed: number };
    assert.equal(plan.dryRun, true);
    assert.deepEqual(plan.removed.map(c => c.name), ["chain-2"]);
    assert.deepEqual(plan.kept, ["chain-3"]);
    assert.match(dry.stderr, /would remove chain-2: .* MiB/);
    assert.ok(fs.existsSync(path.join(folder, "chain-2", "vda.full.data")), "a dry run removes nothing");

    // A file of the user's inside the chain folder keeps that folder (and itself).
    fs.writeFileSync(path.join(folder, "chain-2", "README.user"), "mine\n");
    const act = await helper(["prune", "--domain", vm.name, "--keep", "1", "--yes"]);
    assert.equal(act.code, 0, act.stderr);
    assert.equal(JSON.parse(act.stdout).freed, plan.freed);
    assert.deepEqual(fs.readdirSync(path.join(folder, "chain-2")), ["README.user"]);
    // The newest chain is never removed, whatever is kept.
    const again = JSON.parse((await helper(["prune", "--domain", vm.name, "--keep", "1", "--yes"])).stdout) as { removed: unknown[]; kept: string[] };
    assert.deepEqual([again.removed.length, again.kept], [0, ["chain-3"]]);
    for (const p of points.slice(4))
        await restoresExactly(p);

    // Nothing is removed while a job of the VM runs.
    const started = await helper(["start-backup", "--domain", vm.name, "--level", "new-chain"]);
    assert.equal(started.code, 0, started.stderr);
    const during = await helper(["prune", "--domain", vm.name, "--keep", "1", "--yes"]);
    assert.notEqual(during.code, 0, "pruned while a backup ran");
    assert.match(during.stderr, /is running: nothing was removed|another backup or restore job is running/);
    assert.ok(fs.existsSync(path.join(folder, "chain-3", "vda.full.data")));
    let job: JobState = {};
    for (let i = 0; i < 120 && job.state !== "succeeded" && job.state !== "failed"; i++) {
        await new Promise(resolve => setTimeout(resolve, 1000));
        job = JSON.parse((await helper(["job-status", "--domain", vm.name])).stdout) as JobState;
    }
    assert.equal(job.state, "succeeded", JSON.stringify(job));
    assert.equal(job.folder, path.join(folder, "chain-4"), "numbered after every chain subfolder, also the one a user's file keeps");

    // The page's restore of a point of a chain subfolder (start-restore --chain).
    const target = path.join(work, "page-restore");
    const restored = await runJob(["start-restore", "--domain", vm.name, "--chain", "chain-3", "--point", "virtnbdbackup.0", "--target", target]);
    assert.equal(restored.state, "succeeded", JSON.stringify(restored));
    assert.equal(restored.folder, path.join(folder, "chain-3"));
    const cmp = await compareImages(path.join(target, path.basename(vm.disks[0].path)), points[4].expected);
    assert.ok(cmp.identical, `start-restore chain-3/virtnbdbackup.0: ${cmp.output}`);
    const unknown = await helper(["start-restore", "--domain", vm.name, "--chain", "chain-9", "--point", "virtnbdbackup.0", "--target", path.join(work, "nowhere")]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /holds no chain chain-9/);
});

test("a schedule with a new chain every 2 backups and keep-last-2, run through 7 backups, ends with exactly the expected chains", { timeout: 900_000 }, async () => {
    const every = path.join(work, "every2");
    for (const bad of ["1", "0", "daily", "-2"]) {
        const r = await helper(["set-settings", "--domain", vm.name, "--folder", every, "--schedule", "daily", "--time", "03:17", "--new-chain", bad]);
        assert.notEqual(r.code, 0, `--new-chain ${bad} accepted`);
        assert.match(r.stderr, /new chain/);
    }
    const set = await helper(["set-settings", "--domain", vm.name, "--folder", every, "--schedule", "daily", "--time", "03:17", "--keep-chains", "2", "--new-chain", "2"]);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(JSON.parse(set.stdout).newChain, 2);
    points.length = 0;
    const folders: string[] = [];
    const prunedBy: string[][] = [];
    const warnings: string[] = [];
    for (let i = 1; i <= 7; i++) {
        const job = await backup(`every-${i}`, scheduled());
        folders.push(path.relative(every, job.folder!) || ".");
        prunedBy.push(job.pruned?.chains ?? []);
        warnings.push(...(job.warnings ?? []).map(w => `${i}: ${w}`));
    }
    // Two backups per chain: the folder itself, chain-2, chain-3, chain-4 (its full only so far).
    assert.deepEqual(folders, [".", ".", "chain-2", "chain-2", "chain-3", "chain-3", "chain-4"]);
    assert.deepEqual(prunedBy, [[], [], [], [], [""], [], ["chain-2"]], `the runs' warnings: ${warnings.join("; ")}`);
    assert.deepEqual(fs.readdirSync(every).filter(n => !n.startsWith(".")).sort(), ["chain-3", "chain-4"]);
    const list = JSON.parse((await helper(["list-restore-points", "--domain", vm.name])).stdout) as { chains: { name: string; points: number }[] };
    assert.deepEqual(list.chains.map(c => [c.name, c.points]), [["chain-3", 2], ["chain-4", 1]]);
    for (const p of points.slice(4))
        await restoresExactly(p);

    // Deleting one chain: never the newest, never one the folder does not hold; a dry run unless --yes.
    const newest = await helper(["delete-chain", "--domain", vm.name, "--chain", "chain-4", "--yes"]);
    assert.notEqual(newest.code, 0);
    assert.match(newest.stderr, /chain-4 is the newest chain, where the next backup goes/);
    for (const outside of ["../every2", "/tmp", "chain-4/..", "x"]) {
        const r = await helper(["delete-chain", "--domain", vm.name, "--chain", outside, "--yes"]);
        assert.equal(r.code, 2, `--chain ${outside}: ${r.stderr}`);
        assert.match(r.stderr, /not a chain name/);
    }
    const unknown = await helper(["delete-chain", "--domain", vm.name, "--chain", "chain-2", "--yes"]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /holds no chain chain-2/);
    const dry = await helper(["delete-chain", "--domain", vm.name, "--chain", "chain-3"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(JSON.parse(dry.stdout).removed.map((c: { name: string }) => c.name), ["chain-3"]);
    assert.ok(fs.existsSync(path.join(every, "chain-3")));
    const del = await helper(["delete-chain", "--domain", vm.name, "--chain", "chain-3", "--yes"]);
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual(fs.readdirSync(every).filter(n => !n.startsWith(".")).sort(), ["chain-4"]);
    await restoresExactly(points[6]);
});
