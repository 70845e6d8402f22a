// SPDX-License-Identifier: GPL-3.0-or-later
// `npm run bench`: times our backup and restore CLIs against the floor (libvirt pull-mode export copied by
// nbdcopy) and against the real Python virtnbdbackup/virtnbdrestore, on a TCG VM it builds itself, and
// checks every backup it times restores exactly. `--smoke`: a small, quick run of the same code for npm test.
//
// Full backups use `-l full` for both tools; every checkpoint is deleted after each run (untimed), so each
// full starts from a VM without checkpoints. Tools alternate their order from one round to the next.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureLibvirtd, LIBVIRT_URI } from "../test/lib/libvirtd.ts";
import { TestVm } from "../test/lib/vm.ts";
import { Checks, CorrectnessError, log } from "./lib/checks.ts";
import { cleanupAll, cleanupOnSignals, onCleanup } from "./lib/cleanup.ts";
import { FULL, SMOKE, type BenchConfig } from "./lib/config.ts";
import { dropCaches, hostLoad, machineInfo } from "./lib/host.ts";
import { haveGnuTime, measure, measureOk, type Measurement } from "./lib/measure.ts";
import { queueRows, type QueueRow } from "./lib/queue.ts";
import { caseBytes, dirtyExtents, FRAGMENTED_FULL, FRAGMENTED_SMOKE, type FragmentedCase } from "./lib/fragmented.ts";
import { beginAndAbort, dataBytesOf, startPullJob } from "./lib/pull-job.ts";
import { removePluginState } from "../test/lib/plugin-state.ts";
import { goalTable, measurementTable, median, peakRss, ratioGoal, type Goal, type Row } from "./lib/report.ts";
import { backupCmd, deleteAllCheckpoints, ourCli, programsOf, PY_RESTORE, restoreCmd, restoredImage, snapshotOurClis, waitForQemuNbdIn, type Tool } from "./lib/tools.ts";
import { runOk } from "../test/lib/exec.ts";
import { startMapProcess } from "../test/lib/map-cli.ts";
import { chainListingRows } from "./lib/chain-listing.ts";

const MiB = 2 ** 20;
const benchDir = path.dirname(new URL(import.meta.url).pathname);

/** State shared by the phases. */
interface Bench {
    cfg: BenchConfig;
    vm: TestVm;
    work: string;
    checks: Checks;
    rows: Map<string, Row>;
    /** Bytes of the disk holding data (what a full copies). */
    dataBytes: number;
    /** Whether the page cache could be dropped before each timed run. */
    cacheDropped: boolean;
    /** Our restore CLI works (false: its rows say why not). */
    ourRestore: { ready: boolean; why?: string };
    counter: number;
}

function row(b: Bench, label: string, bytes: number): Row {
    let r = b.rows.get(label);
    if (!r) {
        r = { label, wallMs: [], bytes, peakRss: [], cpuSeconds: [] };
        b.rows.set(label, r);
    }
    return r;
}

function record(r: Row, m: Measurement, wallMs = m.wallMs): void {
    r.wallMs.push(wallMs);
    r.peakRss.push(m.peakRss);
    r.cpuSeconds.push(m.cpuSeconds);
}

function freshDir(b: Bench, label: string): string {
    const dir = path.join(b.work, `${label}-${++b.counter}`);
    fs.mkdirSync(dir);
    return dir;
}

function folderBytes(dir: string): number {
    return fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
}

async function beforeTimedRun(b: Bench): Promise<void> {
    b.cacheDropped = (await dropCaches()) && b.cacheDropped;
}

// ---------------------------------------------------------------------------------------------------------
// Phases

/** The floor: backup-begin + nbdcopy of the export to a sparse file + domjobabort; nbdcopy to null: for info. */
async function floor(b: Bench, round: number): Promise<void> {
    await beforeTimedRun(b);
    const job = await startPullJob(b.vm.name, "vda", b.work);
    const forget = onCleanup("floor job", async () => { await job.stop() });
    try {
        const out = path.join(b.work, "floor.raw");
        const copy = await measureOk("nbdcopy to file", "nbdcopy", [job.uri, out]);
        if (round === 0)
            await b.checks.sameImage("floor: nbdcopy of the pull-mode export", out, b.vm.expectedPath(0));
        fs.rmSync(out, { force: true });
        await dropCaches();
        const toNull = await measureOk("nbdcopy to null:", "nbdcopy", [job.uri, "null:"]);
        record(row(b, "nbdcopy → null: (export read only, info)", b.dataBytes), toNull);
        // The floor's file is left in the page cache; our backups fsync. What durability costs, for info:
        await dropCaches();
        const flushed = await measureOk("nbdcopy --flush to file", "nbdcopy", ["--flush", job.uri, out]);
        fs.rmSync(out, { force: true });
        record(row(b, "nbdcopy --flush → file (durable like ours, info)", b.dataBytes), flushed);
        forget();
        const abortMs = await job.stop();
        record(row(b, "floor: backup-begin + nbdcopy → file + domjobabort", b.dataBytes), copy, job.beginMs + copy.wallMs + abortMs);
    } catch (e) {
        forget();
        await job.stop().catch(() => 0);
        throw e;
    }
}

function backupLabel(tool: Tool, level: string, compress: boolean, extra = ""): string {
    const name = tool === "ours" ? "ours virtnbdbackup" : "Python virtnbdbackup";
    return `${name} ${level}${compress ? " -z" : ""}${extra}`;
}

/** One timed full backup into a fresh folder; the folder is removed unless `keep`. */
async function timedFull(b: Bench, tool: Tool, compress: boolean, keep: boolean): Promise<string> {
    const dir = freshDir(b, `${tool}-full${compress ? "-z" : ""}`);
    const c = backupCmd(tool, b.vm.name, "full", dir, compress);
    await beforeTimedRun(b);
    const m = await measureOk(backupLabel(tool, "full", compress), c.cmd, c.args);
    const r = row(b, backupLabel(tool, "full", compress), b.dataBytes);
    record(r, m);
    r.outputBytes = folderBytes(dir);
    await deleteAllCheckpoints(b.vm.name);
    if (!keep)
        fs.rmSync(dir, { recursive: true, force: true });
    return dir;
}

/** Floor and full backups, alternating; returns the folders kept from the last round. */
async function fullBackups(b: Bench): Promise<{ pyPlain: string; oursPlain: string; oursZ: string }> {
    let pyPlain = "", oursPlain = "", oursZ = "";
    for (let round = 0; round < b.cfg.reps; round++) {
        const last = round === b.cfg.reps - 1;
        log(`round ${round + 1}/${b.cfg.reps}: floor, full backups`);
        await floor(b, round);
        // Alternate which tool goes first, so neither always follows the other's cache footprint.
        const order: Tool[] = round % 2 === 0 ? ["python", "ours"] : ["ours", "python"];
        for (const compress of [false, true]) {
            for (const tool of order) {
                if (tool === "python" && !b.cfg.python && (compress || round > 0))
                    continue;  // smoke: one plain Python full, for the restore row
                // Kept: the Python plain full (the restore rows read it) and our last fulls (verified below).
                const keepPy = tool === "python" && !compress && (last || !b.cfg.python);
                const keepOurs = tool === "ours" && last;
                const dir = await timedFull(b, tool, compress, keepPy || keepOurs);
                if (keepPy)
                    pyPlain = dir;
                else if (keepOurs && compress)
                    oursZ = dir;
                else if (keepOurs)
                    oursPlain = dir;
            }
        }
    }
    return { pyPlain, oursPlain, oursZ };
}

/** Restores `input` with a tool into a fresh folder; returns the measurement and the restored image. */
async function restoreOnce(b: Bench, tool: Tool, input: string, diskPath = b.vm.disks[0]!.path): Promise<{ m: Measurement; out: string; image: string }> {
    const out = path.join(b.work, `${tool}-restore-${++b.counter}`);
    const c = restoreCmd(tool, input, out);
    await beforeTimedRun(b);
    // The Python tool leaves its qemu-nbd flushing the image after it exits: that is part of its restore.
    const m = await measure(c.cmd, c.args, { after: tool === "python" ? () => waitForQemuNbdIn(out) : undefined });
    return { m, out, image: restoredImage(out, diskPath) };
}

const CONVERT_FLOOR = "floor: qemu-img convert of the restored image → qcow2 + fdatasync (durable like ours)";
const CONVERT_UNSYNCED = "qemu-img convert of the restored image → qcow2, not flushed (info)";

/**
 * The restore's floor: qemu-img convert (its defaults: through the page cache, no flush) of the same data,
 * a restored image, into a new qcow2, then one fdatasync of it, as our restore makes its image durable
 * before it names it. The convert alone is recorded too (`unsynced`).
 */
async function convertFloor(b: Bench, image: string, label = CONVERT_FLOOR, unsynced = CONVERT_UNSYNCED, bytes = b.dataBytes): Promise<void> {
    const copy = path.join(b.work, "convert-floor.qcow2");
    await beforeTimedRun(b);
    try {
        const { m, syncedMs } = await convertAndSync(label, image, copy);
        record(row(b, label, bytes), m, syncedMs);
        record(row(b, unsynced, bytes), m);
    } finally {
        fs.rmSync(copy, { force: true });
    }
}

/** qemu-img convert of `image` into a new qcow2 `copy`, then one fdatasync of it; `syncedMs` counts both. */
async function convertAndSync(label: string, image: string, copy: string): Promise<{ m: Measurement; syncedMs: number }> {
    const m = await measureOk(label, "qemu-img", ["convert", "-O", "qcow2", image, copy]);
    const started = performance.now();
    const fh = await fs.promises.open(copy, "r");
    await fh.datasync();
    await fh.close();
    return { m, syncedMs: m.wallMs + performance.now() - started };
}

/** Restore of the Python tool's full backup with both restore CLIs, alternating; each result checked once. */
async function restores(b: Bench, pyPlain: string): Promise<void> {
    const tools: Tool[] = b.cfg.python ? ["python", "ours"] : ["ours"];
    const label = (t: Tool) => t === "ours" ? "ours virtnbdrestore (Python's full)" : "Python virtnbdrestore (Python's full)";
    for (let round = 0; round < b.cfg.reps; round++) {
        log(`round ${round + 1}/${b.cfg.reps}: restores`);
        for (const tool of round % 2 === 0 ? tools : [...tools].reverse()) {
            if (tool === "ours" && !b.ourRestore.ready)
                continue;
            const { m, out, image } = await restoreOnce(b, tool, pyPlain);
            try {
                if (m.code !== 0) {
                    if (tool === "ours") {
                        b.ourRestore = { ready: false, why: (m.stderr.trim().split("\n").pop() ?? "").slice(0, 160) };
                        log(`  our restore failed (exit ${m.code}): ${b.ourRestore.why}`);
                        continue;
                    }
                    throw new Error(`Python virtnbdrestore failed (exit ${m.code}): ${m.stderr.trim().split("\n").slice(-5).join("\n")}`);
                }
                if (round === 0)
                    await b.checks.sameImage(`${label(tool)} restored exactly`, image, b.vm.expectedPath(0));
                record(row(b, label(tool), b.dataBytes), m);
                if (tool === "ours")
                    await convertFloor(b, image);
            } finally {
                fs.rmSync(out, { recursive: true, force: true });
            }
        }
    }
    if (!b.ourRestore.ready)
        row(b, label("ours"), b.dataBytes).unavailable = "n/a (restore CLI not ready)";
}

/** Restores one of our backup folders (ours if our restore works, else the Python one) and compares it. */
async function verifyBackup(b: Bench, what: string, dir: string, expected: string, diskPath?: string): Promise<void> {
    const tool: Tool = b.ourRestore.ready ? "ours" : "python";
    const { m, out, image } = await restoreOnce(b, tool, dir, diskPath);
    try {
        if (m.code !== 0)
            throw new CorrectnessError(`restore of ${what} with ${tool} virtnbdrestore failed (exit ${m.code}): ${m.stderr.trim().split("\n").pop()}`);
        await b.checks.sameImage(`${what}, restored by ${tool === "ours" ? "our" : "the Python"} virtnbdrestore`, image, expected);
    } finally {
        fs.rmSync(out, { recursive: true, force: true });
    }
}

let dirtyWrites = 0;

/** Live guest writes of `bytes` random data at a place that moves from call to call (1 MiB aligned). */
async function dirty(b: Bench, bytes: number): Promise<void> {
    const diskMiB = b.vm.disks[0]!.size / MiB;
    const lengthMiB = bytes / MiB;
    const k = ++dirtyWrites;
    const offsetMiB = (k * 613) % (diskMiB - lengthMiB);
    await b.vm.write(0, { offset: offsetMiB * MiB, length: bytes, random: true, seed: 1000 + k });
}

/** A chain: full (untimed), then timed incs with 0, small and large dirty sizes; ours checked by a restore. */
async function incrementals(b: Bench, tool: Tool): Promise<void> {
    await deleteAllCheckpoints(b.vm.name);
    const chain = freshDir(b, `${tool}-chain`);
    const full = backupCmd(tool, b.vm.name, "full", chain, false);
    await measureOk(`${tool} full (chain start)`, full.cmd, full.args);
    const sizes = tool === "ours" ? [0, b.cfg.incSmall, b.cfg.incLarge] : [b.cfg.incSmall];
    for (const size of sizes) {
        const label = backupLabel(tool, "inc", false, `, ${size / MiB} MiB dirty`);
        if (size === 0 && tool === "ours") {
            await fixedCost(b, b.vm, chain);
            continue;
        }
        for (let round = 0; round < b.cfg.reps; round++) {
            log(`${label}: round ${round + 1}/${b.cfg.reps}`);
            if (size > 0)
                await dirty(b, size);
            const c = backupCmd(tool, b.vm.name, "inc", chain, false);
            await beforeTimedRun(b);
            record(row(b, label, size), await measureOk(label, c.cmd, c.args));
        }
    }
    if (tool === "ours")
        await verifyBackup(b, `our chain (full + ${sizes.length * b.cfg.reps} incs)`, chain, b.vm.expectedPath(0));
    fs.rmSync(chain, { recursive: true, force: true });
    await deleteAllCheckpoints(b.vm.name);
}

// ---------------------------------------------------------------------------------------------------------
// The fixed cost of a run: our inc with nothing dirty against libvirt's part of it alone

const FIXED_OURS = backupLabel("ours", "inc", false, ", 0 MiB dirty");
const FIXED_FLOOR = "floor: virsh backup-begin (pull, incremental, new checkpoint) + domjobabort";

/**
 * Our inc with nothing dirty on `vm`, whose last backup went into `chain`, alternating with its floor: the same
 * kind of job (pull mode, incremental from the newest checkpoint, a new checkpoint with a bitmap, a scratch
 * file) started and ended at once by virsh; the floor's checkpoint is deleted again (untimed), so our chain
 * goes on from its own. The difference is what our run adds: node, its virsh questions, block status, files.
 */
async function fixedCost(b: Bench, vm: TestVm, chain: string): Promise<void> {
    for (let round = 0; round < b.cfg.reps; round++) {
        log(`fixed cost: round ${round + 1}/${b.cfg.reps}`);
        for (const which of round % 2 === 0 ? ["floor", "ours"] : ["ours", "floor"]) {
            if (which === "floor") {
                const list = await runOk("virsh", ["-c", LIBVIRT_URI, "checkpoint-list", "--domain", vm.name, "--name", "--topological"]);
                const parent = list.stdout.split("\n").filter(l => l.trim() !== "").pop();
                if (parent === undefined)
                    throw new Error(`${vm.name} has no checkpoint to start an incremental job from`);
                const name = `vnbt-bench-floor-${++b.counter}`;
                await beforeTimedRun(b);
                await warmPrograms();
                const m = await beginAndAbort(vm.name, "vda", b.work, parent, name);
                const r = row(b, FIXED_FLOOR, 0);
                r.wallMs.push(m.wallMs);
                r.peakRss.push(m.peakRss);
                r.cpuSeconds.push(m.cpuSeconds);
                await runOk("virsh", ["-c", LIBVIRT_URI, "checkpoint-delete", "--domain", vm.name, "--checkpointname", name]);
            } else {
                const c = backupCmd("ours", vm.name, "inc", chain, false);
                await beforeTimedRun(b);
                await warmPrograms();
                record(row(b, FIXED_OURS, 0), await measureOk(FIXED_OURS, c.cmd, c.args));
            }
        }
    }
}

/**
 * After the page cache is dropped, both sides' programs are loaded once (untimed): node with our CLI, qemu-img
 * (which our run starts too), and virsh with libvirt's client. The rows then compare what a run does, not how
 * fast the disk gives back node's 100 MB (the listing rows do the same); the chain's and the VM's files stay cold.
 */
async function warmPrograms(): Promise<void> {
    await runOk(process.execPath, [ourCli("virtnbdbackup"), "--help"]);
    await runOk("qemu-img", ["--version"]);
    await runOk("virsh", ["-c", LIBVIRT_URI, "-r", "version"]);
}

function fixedCostGoal(b: Bench): Goal {
    const ours = median(b.rows.get(FIXED_OURS));
    const floorMs = median(b.rows.get(FIXED_FLOOR));
    const goal = "ours inc with nothing dirty − its floor (backup-begin with checkpoint + domjobabort)";
    if (ours === null || floorMs === null)
        return { goal, target: "<= 0.3 s", value: "n/a", pass: null };
    const extra = (ours - floorMs) / 1000;
    return { goal, target: "<= 0.3 s", value: `${extra.toFixed(2)} s`, pass: extra <= 0.3 };
}

/** --fixed-cost: only those rows, on a VM with a blank disk and a chain of ours (one untimed full). */
async function fixedCostOnly(b: Bench): Promise<void> {
    log("fixed cost: building a VM with a blank 4G disk...");
    const vm = await TestVm.create({ disks: [{ size: "4G" }] });
    const forget = onCleanup("fixed-cost VM", () => vm.cleanup());
    try {
        const chain = freshDir(b, "fixed-cost");
        const full = backupCmd("ours", vm.name, "full", chain, false);
        await measureOk("ours full (chain start)", full.cmd, full.args);
        await fixedCost(b, vm, chain);
        await verifyBackup(b, `our chain (full + ${b.cfg.reps} incs with nothing dirty)`, chain, vm.expectedPath(0), vm.disks[0]!.path);
        await deleteAllCheckpoints(vm.name);
    } finally {
        forget();
        await vm.cleanup();
    }
}

/** Label of the big sparse disk's fulls. */
function sparseLabel(b: Bench, tool: Tool): string {
    const data = b.cfg.sparse.writes.reduce((n, w) => n + Number(w.length), 0);
    return backupLabel(tool, "full", false, `, ${b.cfg.sparse.diskSize} sparse disk (${data / MiB} MiB data)`);
}

/**
 * Fulls of a second VM whose big disk is nearly empty: the cost is planning (block status over the whole
 * disk, below 4 GiB per request) plus the little data. Ours is checked by a restore.
 */
async function sparseDisk(b: Bench): Promise<void> {
    log(`big sparse disk: building a VM with a ${b.cfg.sparse.diskSize} disk...`);
    const vm = await TestVm.create({ disks: [{ size: b.cfg.sparse.diskSize, writes: b.cfg.sparse.writes }] });
    const forget = onCleanup("sparse VM", () => vm.cleanup());
    try {
        const data = b.cfg.sparse.writes.reduce((n, w) => n + Number(w.length), 0);
        const tools: Tool[] = b.cfg.python ? ["python", "ours"] : ["ours"];
        let kept = "";
        for (let round = 0; round < b.cfg.reps; round++) {
            log(`big sparse disk: round ${round + 1}/${b.cfg.reps}`);
            for (const tool of round % 2 === 0 ? tools : [...tools].reverse()) {
                const dir = freshDir(b, `${tool}-sparse`);
                const c = backupCmd(tool, vm.name, "full", dir, false);
                await beforeTimedRun(b);
                record(row(b, sparseLabel(b, tool), data), await measureOk(sparseLabel(b, tool), c.cmd, c.args));
                await deleteAllCheckpoints(vm.name);
                if (tool === "ours" && round === 0)
                    kept = dir;
                else
                    fs.rmSync(dir, { recursive: true, force: true });
            }
        }
        if (kept) {
            await verifyBackup(b, `our full of the ${b.cfg.sparse.diskSize} sparse disk`, kept, vm.expectedPath(0), vm.disks[0]!.path);
            fs.rmSync(kept, { recursive: true, force: true });
        }
    } finally {
        forget();
        await vm.cleanup();
    }
}

// ---------------------------------------------------------------------------------------------------------
// Fragmented incrementals

/** Each of our chains times the floor in its own rounds: a -z row is compared with the disk as it was in its rounds. */
function fragFloorLabel(c: FragmentedCase, compress: boolean): string {
    return `floor (${c.name})${compress ? ", in the -z chain's rounds" : ""}: backup-begin + nbdcopy → file + domjobabort`;
}

function fragLabel(tool: Tool, c: FragmentedCase, compress: boolean): string {
    return backupLabel(tool, "inc", compress, `, ${c.name} dirty`);
}

const COLD_NBDCOPY = "program start from a dropped page cache: nbdcopy --version (info)";
const COLD_OURS = "program start from a dropped page cache: ours virtnbdbackup --version (info)";

/**
 * A fragmented row's timed run starts, as the fixed-cost rows do, with a dropped page cache and then its side's
 * programs loaded once, untimed: these rows are about what a run does with many small extents, and loading
 * node's 100 MB from the disk is a start-up cost like node's own (the fixed-cost row's). What that load costs
 * each side is kept as info rows: `cold`, the first start after the drop, is timed (plain chain of ours only).
 */
async function warmFor(b: Bench, side: "floor" | Tool, cold: boolean): Promise<void> {
    const [own, ...rest] = programsOf(side);
    const m = await measureOk(`${path.basename(own.cmd)} --version`, own.cmd, own.args);
    if (cold && side !== "python")
        record(row(b, side === "floor" ? COLD_NBDCOPY : COLD_OURS, 0), m);
    for (const p of rest)
        await runOk(p.cmd, p.args);
}

/** The floor of a fragmented case: the pull-mode export of a disk whose only data are the dirty extents. */
async function fragFloor(b: Bench, vm: TestVm, c: FragmentedCase, compress: boolean, check: boolean): Promise<void> {
    await beforeTimedRun(b);
    await warmFor(b, "floor", !compress);
    const job = await startPullJob(vm.name, "vda", b.work);
    const forget = onCleanup("floor job", async () => { await job.stop() });
    try {
        const out = path.join(b.work, "frag-floor.raw");
        const copy = await measureOk("nbdcopy to file", "nbdcopy", [job.uri, out]);
        if (check)
            await b.checks.sameImage(`floor (${c.name}): nbdcopy of the pull-mode export`, out, vm.expectedPath(0));
        fs.rmSync(out, { force: true });
        forget();
        const abortMs = await job.stop();
        const totalMs = job.beginMs + copy.wallMs + abortMs;
        record(row(b, fragFloorLabel(c, compress), caseBytes(c)), copy, totalMs);
        log(`  floor ${(totalMs / 1000).toFixed(2)} s (begin ${(job.beginMs / 1000).toFixed(2)}, copy ${(copy.wallMs / 1000).toFixed(2)}, abort ${(abortMs / 1000).toFixed(2)})`);
    } catch (e) {
        forget();
        await job.stop().catch(() => 0);
        throw e;
    }
}

function fragRestoreLabel(c: FragmentedCase, compress: boolean, incs: number): string {
    return `ours virtnbdrestore, ${c.name} chain${compress ? " -z" : ""} (full + ${incs} incs)`;
}

function fragConvertLabels(c: FragmentedCase): [string, string] {
    return [`qemu-img convert (${c.name} restored) → qcow2 + fdatasync (info)`, `qemu-img convert (${c.name} restored) → qcow2, not flushed (info)`];
}

function fragChainFloorLabel(c: FragmentedCase, compress: boolean, incs: number): string {
    return `floor (${c.name} chain${compress ? " -z" : ""}, full + ${incs} incs): cat of every member + qemu-img convert of the point → qcow2 + fdatasync`;
}

/** The data files of a backup folder (every member of its chains). */
function chainMembers(chain: string): string[] {
    return fs.readdirSync(chain).filter(n => n.endsWith(".data")).map(n => path.join(chain, n));
}

/**
 * The floor of a chain's restore that checks what it restores: every member read once from the disk (its
 * checksum covers the whole file; `cat` to /dev/null, page cache dropped), plus qemu-img convert of the
 * restored point into a new qcow2 and one fdatasync, its input in the page cache (that part is the write: the
 * point's bytes were just read as part of the members). The two timed parts are added.
 */
async function chainFloor(b: Bench, label: string, chain: string, image: string, bytes: number): Promise<void> {
    const members = chainMembers(chain);
    const copy = path.join(b.work, "chain-floor.qcow2");
    await beforeTimedRun(b);
    try {
        const read = await measureOk(`${label}: cat`, "sh", ["-c", 'cat "$@" > /dev/null', "sh", ...members]);
        await runOk("sh", ["-c", 'cat "$1" > /dev/null', "sh", image]);
        const { m: convert, syncedMs } = await convertAndSync(`${label}: convert`, image, copy);
        const r = row(b, label, bytes);
        r.wallMs.push(read.wallMs + syncedMs);
        r.peakRss.push(read.peakRss === null || convert.peakRss === null ? null : Math.max(read.peakRss, convert.peakRss));
        r.cpuSeconds.push(read.cpuSeconds === null || convert.cpuSeconds === null ? null : read.cpuSeconds + convert.cpuSeconds);
    } finally {
        fs.rmSync(copy, { force: true });
    }
}

/** Restores of a fragmented chain are timed at most this often (each is a whole disk of small frames). */
const FRAG_RESTORES = 3;

/**
 * Our restore of the chain's newest point (many small frames per file), timed and checked, alternating with
 * its floor (chainFloor: every member read, the point written), and qemu-img convert of the restored image
 * alone (info, with the plain chain). Fair to both: the chain is read once before (untimed: this host's
 * disk is a VM's, whose first read of files after a while costs several times any later one, page cache
 * dropped or not), and the floor goes first in every second round (converting the first round's image).
 */
async function fragRestores(b: Bench, vm: TestVm, c: FragmentedCase, chain: string, compress: boolean, expected: string): Promise<void> {
    const label = fragRestoreLabel(c, compress, b.cfg.reps);
    const floorLabel = fragChainFloorLabel(c, compress, b.cfg.reps);
    await runOk("sh", ["-c", 'cat "$@" > /dev/null', "sh", ...chainMembers(chain)]);
    let first: { out: string; image: string } | undefined;
    try {
        for (let round = 0; round < Math.min(b.cfg.reps, FRAG_RESTORES); round++) {
            if (first && round % 2 === 1)
                await chainFloor(b, floorLabel, chain, first.image, caseBytes(c));
            const { m, out, image } = await restoreOnce(b, "ours", chain, vm.disks[0]!.path);
            try {
                if (m.code !== 0)
                    throw new CorrectnessError(`${label} failed (exit ${m.code}): ${m.stderr.trim().split("\n").pop()}`);
                record(row(b, label, caseBytes(c)), m);
                if (round === 0)
                    await b.checks.sameImage(`our fragmented chain${compress ? " -z" : ""} (${c.name}, full + ${b.cfg.reps} incs), restored by our virtnbdrestore`, image, expected);
                if (round % 2 === 0)
                    await chainFloor(b, floorLabel, chain, image, caseBytes(c));
                if (!compress)
                    await convertFloor(b, image, ...fragConvertLabels(c), caseBytes(c));
            } finally {
                if (first)
                    fs.rmSync(out, { recursive: true, force: true });
                else
                    first = { out, image };
            }
        }
    } finally {
        if (first)
            fs.rmSync(first.out, { recursive: true, force: true });
    }
}

/**
 * The files stay the other tool's: the real virtnbdrestore restores every point of our chain, each compared
 * with the VM's disk as it was at that point. Point k > 0 with `--until virtnbdbackup.k`, as a user asks for it.
 * Point 0 with `--sequence` of the full alone: the real tool skips a file without data (the full of a blank
 * disk) before it looks at --until, and then applies the incs after it (its own behaviour, whoever wrote the files).
 */
async function everyPointByRealRestore(b: Bench, c: FragmentedCase, chain: string, compress: boolean, disk: { dev: string; path: string }, points: string[]): Promise<void> {
    for (const [k, expected] of points.entries()) {
        const out = path.join(b.work, `python-restore-${++b.counter}`);
        try {
            const which = k === 0 ? ["--sequence", `${disk.dev}.full.data`] : ["--until", `virtnbdbackup.${k}`];
            const r = await measure(PY_RESTORE, ["-i", chain, "-o", out, "--noprogress", ...which], { after: () => waitForQemuNbdIn(out) });
            const what = `our fragmented chain${compress ? " -z" : ""} (${c.name}), point ${k} of ${points.length - 1}`;
            if (r.code !== 0)
                throw new CorrectnessError(`${what}: the real virtnbdrestore failed (exit ${r.code}): ${r.stderr.trim().split("\n").pop()}`);
            // --sequence names the image after the disk, --until after the source image.
            const image = k === 0 ? path.join(out, disk.dev) : restoredImage(out, disk.path);
            await b.checks.sameImage(`${what}, restored by the real virtnbdrestore`, image, expected);
        } finally {
            fs.rmSync(out, { recursive: true, force: true });
        }
    }
}

/**
 * One chain per tool and compression: full (untimed), then per round new data in every extent and a timed
 * inc; each chain of ours also times the floor after each round's writes. Our chains' newest point is
 * restored (timed, checked), and every point by the real virtnbdrestore (checked).
 */
async function fragmentedCase(b: Bench, c: FragmentedCase): Promise<void> {
    log(`fragmented ${c.name}: building a VM with a blank ${c.diskSize} disk...`);
    const vm = await TestVm.create({ disks: [{ size: c.diskSize }] });
    const forget = onCleanup("fragmented VM", () => vm.cleanup());
    try {
        const chains: [Tool, boolean][] = [["ours", false], ["ours", true], ...(b.cfg.python ? [["python", false] as [Tool, boolean]] : [])];
        for (const [tool, compress] of chains) {
            await deleteAllCheckpoints(vm.name);
            const chain = freshDir(b, `${tool}-frag${compress ? "-z" : ""}`);
            const full = backupCmd(tool, vm.name, "full", chain, compress);
            await measureOk(`${tool} full (chain start)`, full.cmd, full.args);
            // The disk as it was at each point of our chain (sparse copies), for the checks at the end.
            const tag = `frag${compress ? "-z" : ""}`;
            const points = tool === "ours" ? [await vm.snapshotExpected(0, `${tag}-0`)] : [];
            const label = fragLabel(tool, c, compress);
            for (let round = 0; round < b.cfg.reps; round++) {
                log(`${label}: round ${round + 1}/${b.cfg.reps}`);
                await dirtyExtents(vm, c);
                if (tool === "ours")
                    await fragFloor(b, vm, c, compress, round === 0 && !compress);
                const cmd = backupCmd(tool, vm.name, "inc", chain, compress);
                await beforeTimedRun(b);
                await warmFor(b, tool, tool === "ours" && !compress);
                const m = await measureOk(label, cmd.cmd, cmd.args);
                record(row(b, label, caseBytes(c)), m);
                // Each run's time in the log: a median hides which rounds were slow.
                log(`  ${(m.wallMs / 1000).toFixed(2)} s`);
                if (tool === "ours")
                    points.push(await vm.snapshotExpected(0, `${tag}-${round + 1}`));
            }
            if (tool === "ours") {
                await fragRestores(b, vm, c, chain, compress, vm.expectedPath(0));
                await everyPointByRealRestore(b, c, chain, compress, vm.disks[0]!, points);
                for (const p of points)
                    fs.rmSync(p, { force: true });
            }
            fs.rmSync(chain, { recursive: true, force: true });
        }
        await deleteAllCheckpoints(vm.name);
    } finally {
        forget();
        await vm.cleanup();
    }
}

// ---------------------------------------------------------------------------------------------------------
// A mapped restore point (virtnbdmap): how long until it serves, and a sequential read of it against the
// same data read from the restored raw file, for a plain and an lz4 chain (full + inc) of a VM like the
// main one.

const MAP_START = "ours virtnbdmap: start until serving (plain chain)";
const MAP_START_Z = "ours virtnbdmap: start until serving (lz4 chain)";
const MAP_READ = "nbdcopy mapped point → null: (plain chain)";
const MAP_READ_Z = "nbdcopy mapped point → null: (lz4 chain, info)";
const RAW_READ = "nbdcopy restored raw file → null:";
const MAP_RESTORE = "ours virtnbdrestore (plain chain: full + inc)";
const MAP_RESTORE_FLOOR = "floor: qemu-img convert of its restored image → qcow2 + fdatasync";
const MAP_RESTORE_UNSYNCED = "qemu-img convert of its restored image → qcow2, not flushed (info)";

/** The chain of one compression: full, then an inc after `incLarge` new bytes; checked by a restore (kept as raw). */
async function mapChain(b: Bench, vm: TestVm, compress: boolean): Promise<{ chain: string; raw: string; expected: string }> {
    await deleteAllCheckpoints(vm.name);
    const chain = freshDir(b, `map-chain${compress ? "-z" : ""}`);
    for (const level of ["full", "inc"]) {
        if (level === "inc")
            await vm.write(0, { offset: b.cfg.incSmall, length: b.cfg.incLarge, random: true, seed: compress ? 92 : 91 });
        const c = backupCmd("ours", vm.name, level, chain, compress);
        await measureOk(`ours ${level} (map chain)`, c.cmd, c.args);
    }
    const expected = await vm.snapshotExpected(0, `map${compress ? "-z" : ""}`);
    const { out, image } = await restoreOnce(b, "ours", chain, vm.disks[0]!.path);
    await b.checks.sameImage(`our ${compress ? "lz4 " : ""}chain for mapping, restored`, image, expected);
    const raw = path.join(b.work, `map-restored${compress ? "-z" : ""}.raw`);
    await runOk("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", image, raw]);
    fs.rmSync(out, { recursive: true, force: true });
    return { chain, raw, expected };
}

/**
 * Times the start of a mapping and a sequential read of it; the first round checks it against the expected
 * image. Returns the data bytes of the mapped disk (what its block status calls data).
 */
async function timedMapping(b: Bench, chain: string, expected: string, startLabel: string, readLabel: string, round: number): Promise<number> {
    await beforeTimedRun(b);
    const started = performance.now();
    const map = await startMapProcess([ourCli("virtnbdmap"), "--json", "-i", chain]);
    const startMs = performance.now() - started;
    const forget = onCleanup("mapping", async () => { await map.stop() });
    try {
        const r = row(b, startLabel, 0);
        r.wallMs.push(startMs);
        r.peakRss.push(null);
        r.cpuSeconds.push(null);
        if (round === 0)
            await b.checks.sameImage(`${readLabel}: the mapped point`, map.disks[0].uri, expected);
        const bytes = await dataBytesOf(map.disks[0].uri);
        await dropCaches();
        record(row(b, readLabel, bytes), await measureOk(readLabel, "nbdcopy", [map.disks[0].uri, "null:"]));
        return bytes;
    } finally {
        forget();
        await map.stop();
    }
}

async function mappedPoint(b: Bench): Promise<void> {
    log(`mapping: building a VM (${b.cfg.diskSize} disk)...`);
    const vm = await TestVm.create({ disks: [{ size: b.cfg.diskSize, writes: b.cfg.writes }] });
    const forget = onCleanup("mapping VM", () => vm.cleanup());
    try {
        const plain = await mapChain(b, vm, false);
        const lz4 = await mapChain(b, vm, true);
        for (let round = 0; round < b.cfg.reps; round++) {
            log(`mapping: round ${round + 1}/${b.cfg.reps}`);
            const bytes = await timedMapping(b, plain.chain, plain.expected, MAP_START, MAP_READ, round);
            await beforeTimedRun(b);
            record(row(b, RAW_READ, bytes), await measureOk(RAW_READ, "nbdcopy", [plain.raw, "null:"]));
            b.dataBytes = bytes;
            const { m, out, image } = await restoreOnce(b, "ours", plain.chain, vm.disks[0]!.path);
            if (m.code !== 0)
                throw new Error(`our restore of the plain chain failed: ${m.stderr.trim().split("\n").pop()}`);
            record(row(b, MAP_RESTORE, b.dataBytes), m);
            await convertFloor(b, image, MAP_RESTORE_FLOOR, MAP_RESTORE_UNSYNCED);
            fs.rmSync(out, { recursive: true, force: true });
            await timedMapping(b, lz4.chain, lz4.expected, MAP_START_Z, MAP_READ_Z, round);
        }
        await deleteAllCheckpoints(vm.name);
    } finally {
        forget();
        await vm.cleanup();
    }
}

function mappingGoals(b: Bench): Goal[] {
    const get = (label: string) => median(b.rows.get(label));
    const start = Math.max(get(MAP_START) ?? NaN, get(MAP_START_Z) ?? NaN);
    return [
        { goal: "virtnbdmap start until serving (plain and lz4 chains)", target: "<= 2 s", value: Number.isNaN(start) ? "n/a" : `${(start / 1000).toFixed(2)} s`, pass: Number.isNaN(start) ? null : start <= 2000 },
        // Time of the raw file's read over the mapped read's = the mapped read's throughput share.
        ratioGoal("mapped point read throughput / restored raw file read throughput (plain)", get(RAW_READ), get(MAP_READ), ">=", 0.7),
        ratioGoal("ours restore of the chain / qemu-img convert of the same data", get(MAP_RESTORE), get(MAP_RESTORE_FLOOR), "<=", 1.5),
    ];
}

function fragmentedCases(b: Bench): FragmentedCase[] {
    const all = b.cfg.name === "smoke" ? FRAGMENTED_SMOKE : FRAGMENTED_FULL;
    // --case=<text>: only the cases whose name contains it.
    const only = process.argv.find(a => a.startsWith("--case="))?.slice("--case=".length);
    return only === undefined ? all : all.filter(c => c.name.includes(only));
}

function fragmentedGoals(b: Bench): Goal[] {
    const get = (label: string) => median(b.rows.get(label));
    return fragmentedCases(b).flatMap(c => [
        ...[false, true].map(compress =>
            ratioGoal(`ours inc${compress ? " -z" : ""}, ${c.name} dirty / its floor`, get(fragLabel("ours", c, compress)), get(fragFloorLabel(c, compress)), "<=", 1.25)),
        // Restores of such chains do not slow down per frame: the same target as a full's restore, against what
        // a checked restore of the chain must do at least (read every member, write the point).
        ...[false, true].map(compress =>
            ratioGoal(`ours restore of the ${c.name} chain${compress ? " -z" : ""} / reading its members + writing the point`,
                      get(fragRestoreLabel(c, compress, b.cfg.reps)), get(fragChainFloorLabel(c, compress, b.cfg.reps)), "<=", 1.5)),
    ]);
}

// ---------------------------------------------------------------------------------------------------------
// Consolidation (--consolidate): merging the oldest points of a chain against cp of the same files

const CONSOLIDATE_INCS = 6;
const CP_LABEL = "cp of the merged files + sync (same files, info)";

function consolidateLabel(): string {
    return `ours consolidate: full + ${CONSOLIDATE_INCS - 1} incs → one full`;
}

/**
 * A chain of the main VM (full, then CONSOLIDATE_INCS incs of incSmall dirty each; untimed). Each round copies
 * it (untimed), times cp + sync of the files a consolidation up to the point before the newest merges, and
 * `helper consolidate` of the copy (which writes the new full, reads it back against its checksum, switches
 * and removes the old files). The first round's result is checked by a restore of the newest point.
 */
async function consolidation(b: Bench): Promise<void> {
    await deleteAllCheckpoints(b.vm.name);
    const chain = freshDir(b, "consolidate-chain");
    const full = backupCmd("ours", b.vm.name, "full", chain, false);
    await measureOk("ours full (chain start)", full.cmd, full.args);
    for (let i = 0; i < CONSOLIDATE_INCS; i++) {
        await dirty(b, b.cfg.incSmall);
        const inc = backupCmd("ours", b.vm.name, "inc", chain, false);
        await measureOk("ours inc (chain)", inc.cmd, inc.args);
    }
    const until = `virtnbdbackup.${CONSOLIDATE_INCS - 1}`;
    const merged = fs.readdirSync(chain).filter(n => n === "vda.full.data" || /^vda\.inc\.virtnbdbackup\.(\d+)\.data$/.test(n) && Number(n.split(".")[3]) < CONSOLIDATE_INCS);
    const mergedBytes = merged.reduce((n, f) => n + fs.statSync(path.join(chain, f)).size, 0);
    const helper = path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");
    const uuid = (await measureOk("domuuid", "virsh", ["-c", "qemu:///system", "domuuid", "--domain", b.vm.name])).stdout.trim();
    const forget = onCleanup("bench VM settings", async () => removePluginState([uuid]));
    try {
        for (let round = 0; round < b.cfg.reps; round++) {
            log(`consolidation: round ${round + 1}/${b.cfg.reps}`);
            const copy = freshDir(b, "consolidate");
            fs.cpSync(chain, copy, { recursive: true, preserveTimestamps: true });
            const target = freshDir(b, "cp");
            await beforeTimedRun(b);
            const cp = await measureOk("cp", "cp", [...merged.map(f => path.join(copy, f)), target]);
            const sync = await measureOk("sync", "sync", ["-f", target]);
            record(row(b, CP_LABEL, mergedBytes), cp, cp.wallMs + sync.wallMs);
            fs.rmSync(target, { recursive: true, force: true });
            await measureOk("set-settings", process.execPath, [helper, "set-settings", "--domain", b.vm.name, "--folder", copy, "--schedule", "off"]);
            await beforeTimedRun(b);
            const m = await measureOk(consolidateLabel(), process.execPath, [helper, "consolidate", "--domain", b.vm.name, "--until", until, "--yes"]);
            const r = row(b, consolidateLabel(), mergedBytes);
            record(r, m);
            r.outputBytes = fs.statSync(path.join(copy, `vda.full.${until}.data`)).size;
            if (round === 0)
                await verifyBackup(b, `the consolidated chain (newest point, from vda.full.${until}.data)`, copy, b.vm.expectedPath(0));
            fs.rmSync(copy, { recursive: true, force: true });
        }
    } finally {
        forget();
        removePluginState([uuid]);
    }
    fs.rmSync(chain, { recursive: true, force: true });
    await deleteAllCheckpoints(b.vm.name);
}

function consolidationGoals(b: Bench): Goal[] {
    return [ratioGoal("ours consolidate / cp + sync of the same files", median(b.rows.get(consolidateLabel())), median(b.rows.get(CP_LABEL)), "<=", 1.5)];
}

// ---------------------------------------------------------------------------------------------------------
// Goals and report

function goals(b: Bench): Goal[] {
    const get = (label: string) => median(b.rows.get(label));
    const floorMs = get("floor: backup-begin + nbdcopy → file + domjobabort");
    const ours = get(backupLabel("ours", "full", false));
    const oursZ = get(backupLabel("ours", "full", true));
    const py = get(backupLabel("python", "full", false));
    const inc0 = get(backupLabel("ours", "inc", false, ", 0 MiB dirty"));
    const incSmall = get(backupLabel("ours", "inc", false, `, ${b.cfg.incSmall / MiB} MiB dirty`));
    const out: Goal[] = [
        ratioGoal("ours full / floor", ours, floorMs, "<=", 1.25),
        ratioGoal("Python full / ours full", py, ours, ">=", 5),
        ratioGoal("ours full -z / floor", oursZ, floorMs, "<=", 2),
    ];
    // An inc must cost its fixed job overhead plus its dirty bytes, not a walk over the disk: the small inc
    // (a few % of the data) may add at most a quarter of what a full adds over the same fixed overhead.
    if (inc0 !== null && incSmall !== null && ours !== null) {
        const share = (incSmall - inc0) / Math.max(1, ours - inc0);
        out.push({
            goal: `ours inc ${b.cfg.incSmall / MiB} MiB: (inc − inc 0 dirty) / (full − inc 0 dirty)`,
            target: "<= 0.25", value: share.toFixed(2), pass: share <= 0.25,
        });
    }
    // Planning a big, nearly empty disk must not cost more than a little over a backup with nothing to copy.
    const sparse = get(sparseLabel(b, "ours"));
    if (sparse !== null && inc0 !== null) {
        const extra = (sparse - inc0) / 1000;
        out.push({ goal: `ours full of the ${b.cfg.sparse.diskSize} sparse disk − ours inc 0 dirty`, target: "<= 1 s", value: `${extra.toFixed(2)} s`, pass: extra <= 1 });
    }
    out.push(fixedCostGoal(b));
    out.push(...fragmentedGoals(b));
    out.push(ratioGoal("Python restore / ours restore", get("Python virtnbdrestore (Python's full)"), get("ours virtnbdrestore (Python's full)"), ">=", 2));
    out.push(ratioGoal("ours restore / qemu-img convert of the same data", get("ours virtnbdrestore (Python's full)"), get(CONVERT_FLOOR), "<=", 1.5));
    const ourRss = [...b.rows.values()].filter(r => r.label.startsWith("ours") && !r.unavailable).map(peakRss).filter((v): v is number => v !== null);
    const maxRss = ourRss.length > 0 ? Math.max(...ourRss) : null;
    out.push({ goal: "peak RSS of our CLIs (max over all runs)", target: "<= 150 MB", value: maxRss === null ? "n/a" : `${(maxRss / 1e6).toFixed(0)} MB`, pass: maxRss === null ? null : maxRss <= 150e6 });
    return out;
}

/** Cost of an inc per dirty GiB, from the small and large incs; and the full's cost per data GiB. */
function incScaling(b: Bench): string {
    const get = (mib: number) => median(b.rows.get(backupLabel("ours", "inc", false, `, ${mib} MiB dirty`)));
    const s = b.cfg.incSmall / MiB, l = b.cfg.incLarge / MiB;
    const t0 = get(0), ts = get(s), tl = get(l), full = median(b.rows.get(backupLabel("ours", "full", false)));
    if (t0 === null || ts === null || tl === null || full === null)
        return "";
    const perDirtyGiB = (tl - ts) / 1000 / ((l - s) / 1024);
    const perDataGiB = (full - t0) / 1000 / (b.dataBytes / 2 ** 30);
    return `Incremental scaling (ours): fixed cost (inc with 0 dirty) ${(t0 / 1000).toFixed(2)} s; ` +
        `${s} MiB dirty ${(ts / 1000).toFixed(2)} s, ${l} MiB dirty ${(tl / 1000).toFixed(2)} s → ` +
        `${perDirtyGiB.toFixed(2)} s per dirty GiB (slope between the two), versus ${perDataGiB.toFixed(2)} s per data GiB ` +
        `for a full above the same fixed cost (disk ${(b.vm.disks[0]!.size / 2 ** 30).toFixed(2)} GiB, ` +
        `${(b.dataBytes / 1e9).toFixed(2)} GB of data).`;
}

async function report(b: Bench, startedAt: Date, loadBefore: ReturnType<typeof hostLoad>): Promise<string> {
    const info = await machineInfo();
    const loadAfter = hostLoad(b.vm.name);
    const others = [...new Set([...loadBefore.otherQemus, ...loadAfter.otherQemus])];
    const lines = [
        `# Backup benchmark (${b.cfg.name} run)`,
        "",
        `Date: ${startedAt.toISOString()}  `,
        ...Object.entries(info).map(([k, v]) => `${k}: ${v}  `),
        `VM: TCG, one ${b.cfg.diskSize} qcow2 disk, ${(b.dataBytes / 1e9).toFixed(2)} GB data (random, text, zeroed ranges); ` +
            `a second VM with one ${b.cfg.sparse.diskSize} qcow2 disk holding ${b.cfg.sparse.writes.length} MiB in as many places  `,
        `Runs per measurement: ${b.cfg.reps} (median, min–max); page cache dropped before every timed run: ${b.cacheDropped ? "yes" : "no (not permitted)"}  `,
        `Peak RSS and CPU s (user + system, median): GNU time %M/%U/%S of the tool process (and the children it waited for)  `,
        `Host load (1 min): ${loadBefore.load1.toFixed(2)} at start, ${loadAfter.load1.toFixed(2)} at end; ` +
            `other VMs running: ${others.length > 0 ? others.join(", ") : "none"}`,
        "",
        "Full backups: `-l full` for both tools, all checkpoints deleted (untimed) after every run. Throughput = data bytes " +
            "(dirty bytes for incs) / median wall time. Python restore times include waiting for its qemu-nbd to finish.",
        "",
        measurementTable([...b.rows.values()]),
        "",
        goalTable(goals(b)),
        "",
        incScaling(b),
        "",
        `Correctness: all ${b.checks.passed.length} checks passed (${b.checks.passed.join("; ")}).`,
    ];
    return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
    const base = process.argv.includes("--smoke") ? SMOKE : FULL;
    // --reps=<n>: fewer (or more) runs per measurement, for a quick look; the results file is left alone.
    const reps = Number(process.argv.find(a => a.startsWith("--reps="))?.slice("--reps=".length) ?? base.reps);
    const cfg: BenchConfig = { ...base, reps };
    if (!haveGnuTime())
        throw new Error("/usr/bin/time is missing: install Debian's `time` package (apt-get install time)");
    cleanupOnSignals();
    const startedAt = new Date();
    const stopLibvirtd = await ensureLibvirtd();
    onCleanup("libvirtd", stopLibvirtd);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-bench-`));
    onCleanup("work folder", () => fs.rmSync(work, { recursive: true, force: true }));
    await snapshotOurClis(work);

    // --queue: only the host-wide job queue rows (6 VMs scheduled in the same minute, through queues of several sizes).
    if (process.argv.includes("--queue")) {
        const rows = await queueRows(work, path.join(benchDir, "../dist/helper/helper.js"), log, { maxes: [6, 4, 2, 1], rounds: process.argv.some(a => a.startsWith("--reps=")) ? reps : 5 });
        const mid = (xs: number[]) => { const o = [...xs].sort((a, b) => a - b); return (o[Math.floor((o.length - 1) / 2)]! + o[Math.ceil((o.length - 1) / 2)]!) / 2 };
        const s = (xs: number[]) => `${mid(xs).toFixed(1)} (${xs.map(x => x.toFixed(1)).join(", ")})`;
        // Each round's runs against that round's run without a queue: the other agents' load drifts between rounds.
        const none = rows.find(r => r.max === 6)!;
        const paired = (r: QueueRow) => mid(r.total.map((t, i) => t / none.total[i]!)).toFixed(2);
        process.stdout.write(["| at most N backups at once | all 6 done, s: median (runs) | mean time until a VM's backup is done, s: median (runs) | all 6 done / no queue, same round: median |",
            "| --- | --- | --- | --- |",
            ...rows.map(r => `| ${r.max === 6 ? "6 (no queue)" : r.max} | ${s(r.total)} | ${s(r.meanEnd)} | ${paired(r)} |`)].join("\n") + "\n");
        return 0;
    }
    // --fragmented: only the fragmented incrementals, without the main VM (a quick look while working on them).
    if (process.argv.includes("--fragmented")) {
        const b: Bench = { cfg, vm: undefined as unknown as TestVm, work, checks: new Checks(), rows: new Map(), dataBytes: 0, cacheDropped: true, ourRestore: { ready: true }, counter: 0 };
        unfinished = b;
        for (const c of fragmentedCases(b))
            await fragmentedCase(b, c);
        process.stdout.write(measurementTable([...b.rows.values()]) + "\n\n" + goalTable(fragmentedGoals(b)) + "\n");
        return 0;
    }
    // --fixed-cost: only our inc with nothing dirty against backup-begin + domjobabort alone, alternating.
    if (process.argv.includes("--fixed-cost")) {
        const b: Bench = { cfg, vm: undefined as unknown as TestVm, work, checks: new Checks(), rows: new Map(), dataBytes: 0, cacheDropped: true, ourRestore: { ready: true }, counter: 0 };
        unfinished = b;
        await fixedCostOnly(b);
        process.stdout.write(`Page cache dropped before every timed run: ${b.cacheDropped ? "yes" : "no (not permitted)"}\n\n` +
            measurementTable([...b.rows.values()]) + "\n\n" + goalTable([fixedCostGoal(b)]) + "\n\n" +
            `Correctness: all ${b.checks.passed.length} checks passed (${b.checks.passed.join("; ")}).\n`);
        return 0;
    }
    // --list-chains: only the listing rows (10 chains × 30 points), on a small VM of their own.
    if (process.argv.includes("--list-chains")) {
        let cacheDropped = true;
        const { rows, goals } = await chainListingRows(work, reps, log, async () => { cacheDropped = (await dropCaches()) && cacheDropped });
        process.stdout.write(`Page cache dropped before every timed run: ${cacheDropped ? "yes" : "no (not permitted)"}\n\n` +
            measurementTable(rows) + "\n\n" + goalTable(goals) + "\n");
        return 0;
    }
    // --map: only the mapped restore point rows (virtnbdmap), on a VM of their own.
    if (process.argv.includes("--map")) {
        const b: Bench = { cfg, vm: undefined as unknown as TestVm, work, checks: new Checks(), rows: new Map(), dataBytes: 0, cacheDropped: true, ourRestore: { ready: true }, counter: 0 };
        unfinished = b;
        await mappedPoint(b);
        process.stdout.write(measurementTable([...b.rows.values()]) + "\n\n" + goalTable(mappingGoals(b)) + "\n");
        return 0;
    }
    const onlyConsolidate = process.argv.includes("--consolidate");
    log(`${cfg.name} benchmark: building the VM (${cfg.diskSize} disk)...`);
    const t0 = performance.now();
    const vm = await TestVm.create({ disks: [{ size: cfg.diskSize, writes: cfg.writes }] });
    onCleanup("VM", () => vm.cleanup());
    log(`  VM ${vm.name} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const loadBefore = hostLoad(vm.name);

    const probe = await startPullJob(vm.name, "vda", work);
    const dataBytes = await dataBytesOf(probe.uri).finally(() => probe.stop());
    log(`  data on the disk: ${dataBytes} bytes`);

    const b: Bench = { cfg, vm, work, checks: new Checks(), rows: new Map(), dataBytes, cacheDropped: true, ourRestore: { ready: true }, counter: 0 };
    unfinished = b;
    // --consolidate: only the consolidation rows, on the main VM's data.
    if (onlyConsolidate) {
        await consolidation(b);
        process.stdout.write(measurementTable([...b.rows.values()]) + "\n\n" + goalTable(consolidationGoals(b)) + "\n\n" +
            `Correctness: all ${b.checks.passed.length} checks passed (${b.checks.passed.join("; ")}).\n`);
        return 0;
    }
    const kept = await fullBackups(b);
    await restores(b, kept.pyPlain);
    await verifyBackup(b, "our full", kept.oursPlain, vm.expectedPath(0));
    await verifyBackup(b, "our full -z", kept.oursZ, vm.expectedPath(0));
    for (const dir of Object.values(kept))
        fs.rmSync(dir, { recursive: true, force: true });
    await incrementals(b, "ours");
    if (cfg.python)
        await incrementals(b, "python");
    await sparseDisk(b);
    for (const c of fragmentedCases(b))
        await fragmentedCase(b, c);

    const text = await report(b, startedAt, loadBefore);
    process.stdout.write(text);
    if (cfg.name === "full" && cfg.reps === FULL.reps) {
        fs.mkdirSync(path.join(benchDir, "results"), { recursive: true });
        fs.writeFileSync(path.join(benchDir, "results/latest.md"), text);
        log(`written to ${path.join(benchDir, "results/latest.md")}`);
    }
    return 0;
}

/** The run in progress, so a failure can still show what was measured. */
let unfinished: Bench | null = null;

main().then(async code => {
    await cleanupAll();
    process.exitCode = code;
}, async (err: unknown) => {
    const correctness = err instanceof CorrectnessError;
    process.stderr.write(`${correctness ? "correctness check FAILED" : "benchmark failed"}: ${(err as Error)?.stack ?? err}\n`);
    // Numbers of a run that stopped for another reason are still worth a look (not as results, though).
    if (!correctness && unfinished && unfinished.rows.size > 0)
        process.stderr.write(`\nMeasured before the failure (INCOMPLETE, not a result):\n\n${measurementTable([...unfinished.rows.values()])}\n`);
    await cleanupAll();
    process.exitCode = 1;
});
