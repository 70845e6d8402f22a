// SPDX-License-Identifier: GPL-3.0-or-later
// Mapping restore points (virtnbdmap, helper/map): real chains made by real backups of test VMs (ours
// plain and lz4, the Python virtnbdbackup's), served by the real nbdkit with our plugin. Every point's
// mapped disk equals the restore of that point (qemu-img compare on the NBD URI); damage is refused at
// start naming the file, or fails the read that meets it; a killed mapper's leftovers go at the next
// start; two mappings of one point do not collide.
// Runs alone: it checks that a refused mapping leaves the host's maps folder as it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Handle } from "libnbd-node";
import { run, runOk } from "../lib/exec.ts";
import { TestVm } from "../lib/vm.ts";
import { ourBackupOk, ourCli, ourRestoreOk, PY_BACKUP } from "../lib/backup-cli.ts";
import { startMap, startMapProcess } from "../lib/map-cli.ts";
import { removePluginState } from "../lib/plugin-state.ts";
import { createLocalUser } from "../lib/local-user.ts";
import { testBed } from "../lib/test-bed.ts";
import { mapPoint } from "../../helper/map/map-point.ts";
import { MAPS_DIR } from "../../helper/map/map-dirs.ts";
import { StreamSource } from "../../helper/engine/stream-source.ts";
import { processAlive } from "../../helper/tools/proc.ts";
import { encodeMapIndex, type MapIndex } from "../../helper/map/index-file.ts";
import { NbdkitServer } from "../../helper/map/nbdkit-server.ts";

const bed = testBed({ name: "map", everyVm: true });
let tmp = "";

bed.before(() => {
    tmp = bed.work;
});

type Backup = (vm: TestVm, level: string, dir: string) => Promise<void>;

const ours = (compress: boolean): Backup => async (vm, level, dir) => {
    await ourBackupOk(["-d", vm.name, "-l", level, "-o", dir, ...(compress ? ["-z"] : [])]);
};

const python = (compress: boolean): Backup => async (vm, level, dir) => {
    await runOk(PY_BACKUP, ["-d", vm.name, "-l", level, "-o", dir, "-n", ...(compress ? ["-z"] : [])], { timeoutMs: 300_000 });
};

/** full, inc, diff, inc with live writes in between (overwrites, zeroes, a range longer than 32 MiB); the --until of each point. */
async function buildChain(vm: TestVm, dir: string, backup: Backup): Promise<string[]> {
    const points: string[] = [];
    await backup(vm, "full", dir);
    points.push("virtnbdbackup.0");
    await vm.write(0, { offset: "1M", length: "2M", pattern: 0xc1 });
    await vm.write(vm.disks.length - 1, { offset: "5M", length: "1M", random: true, seed: 7 });
    await backup(vm, "inc", dir);
    points.push("virtnbdbackup.1");
    await vm.write(0, { offset: "20M", length: "1M", pattern: 0xd1 });
    await vm.write(0, { offset: 0, length: "512K", zero: true });
    await backup(vm, "diff", dir);
    points.push(fs.readdirSync(dir).find(n => /^vda\.diff\.\d+\.data$/.test(n))!);
    await vm.write(0, { offset: "30M", length: "40M", random: true, seed: 3 });
    await vm.write(0, { offset: "2M", length: "64K", pattern: 0xe1 });
    await backup(vm, "inc", dir);
    points.push("virtnbdbackup.2");
    return points;
}

/** qemu-img compare of the mapped disk (raw over NBD) with a restored image. */
async function compareMapped(uri: string, image: string): Promise<string> {
    const r = await run("qemu-img", ["compare", "-f", "raw", "-F", "qcow2", uri, image]);
    return r.code === 0 ? "identical" : (r.stdout + r.stderr).trim();
}

/** Restores each point and maps it (the CLI), and compares every disk of the two. */
async function checkEveryPoint(vm: TestVm, backup: string, points: string[], label: string): Promise<void> {
    for (const point of points) {
        const out = path.join(tmp, `${label}-${point}`);
        await ourRestoreOk(["-i", backup, "-o", out, "-u", point]);
        const map = await startMap(["-i", backup, "-u", point]);
        try {
            assert.deepEqual(map.disks.map(d => d.dev), vm.disks.map(d => d.dev));
            for (const [i, disk] of map.disks.entries()) {
                assert.equal(disk.size, vm.disks[i].size);
                assert.equal(await compareMapped(disk.uri, path.join(out, path.basename(vm.disks[i].path))), "identical", `${label} ${point} ${disk.dev}`);
            }
        } finally {
            assert.equal(await map.stop(), 0, "a stopped mapping exits 0");
        }
        assert.ok(!fs.existsSync(map.dir), "the mapping's folder is gone after it stopped");
        fs.rmSync(out, { recursive: true, force: true });
    }
}

/** nbdinfo --map of the mapped disk: [offset, length, type] per extent (type 0: data, 3: hole+zero). */
async function blockMap(uri: string): Promise<number[][]> {
    const r = await runOk("nbdinfo", ["--map", "--json", uri]);
    return (JSON.parse(r.stdout) as { offset: number; length: number; type: number }[]).map(e => [e.offset, e.length, e.type]);
}

const MiB = 1024 * 1024;

test("our plain chain of two disks: every point's mapped disk equals its restore; holes are reported as such", async () => {
    const vm = await TestVm.create({
        disks: [
            { size: "96M", writes: [{ offset: "2M", length: "6M", pattern: 0x5a }] },
            { size: "64M", writes: [{ offset: "60M", length: "4M", text: "ours " }] },
        ],
    });
    const backup = path.join(tmp, "ours-plain");
    const points = await buildChain(vm, backup, ours(false));
    await checkEveryPoint(vm, backup, points, "ours-plain");
    // Ranges no file holds are holes for readers (qemu-img convert, nbdcopy skip them).
    const map = await startMap(["-i", backup, "-u", "virtnbdbackup.0", "--disk", "vdb"]);
    try {
        assert.deepEqual(await blockMap(map.disks[0].uri), [[0, 60 * MiB, 3], [60 * MiB, 4 * MiB, 0]]);
    } finally {
        await map.stop();
    }
    await vm.cleanup();
});

test("our lz4 chain: every point's mapped disk equals its restore", async () => {
    const vm = await TestVm.create({ disks: [{ size: "128M", writes: [{ offset: "4M", length: "36M", random: true, seed: 1 }] }] });
    const backup = path.join(tmp, "ours-lz4");
    const points = await buildChain(vm, backup, ours(true));
    await checkEveryPoint(vm, backup, points, "ours-lz4");
    await vm.cleanup();
});

for (const compress of [false, true]) {
    test(`the Python virtnbdbackup's ${compress ? "lz4" : "plain"} chain: every point's mapped disk equals its restore`, async () => {
        const vm = await TestVm.create({ disks: [{ size: "96M", writes: [{ offset: "8M", length: "36M", random: true, seed: 2 }] }] });
        const label = compress ? "py-lz4" : "py-plain";
        const backup = path.join(tmp, label);
        const points = await buildChain(vm, backup, python(compress));
        await checkEveryPoint(vm, backup, points, label);
        await vm.cleanup();
    });
}

/** A copy of a chain folder to damage. */
function copyChain(from: string, label: string): string {
    const to = path.join(tmp, label);
    fs.cpSync(from, to, { recursive: true });
    return to;
}

function patch(file: string, at: number, bytes: Buffer): void {
    const fd = fs.openSync(file, "r+");
    try {
        fs.writeSync(fd, bytes, 0, bytes.length, at);
    } finally {
        fs.closeSync(fd);
    }
}

test("a damaged member is refused at start naming the file; a damaged lz4 frame fails the read that meets it, never serves wrong data", async () => {
    const vm = await TestVm.create({ disks: [{ size: "64M", writes: [{ offset: 0, length: "8M", text: "the first backup " }] }] });
    const backup = path.join(tmp, "damage");
    await ours(true)(vm, "full", backup);
    await vm.write(0, { offset: "16M", length: "8M", text: "the second backup " });
    await ours(true)(vm, "inc", backup);
    const inc = "vda.inc.virtnbdbackup.1.data";
    const before = fs.existsSync(MAPS_DIR) ? fs.readdirSync(MAPS_DIR) : [];

    // A frame header: the structure check of every member refuses the chain before anything is served.
    const header = copyChain(backup, "damage-header");
    const source = await StreamSource.open(path.join(header, inc));
    const piece = source.storedPieces()[0];
    await source.close();
    patch(path.join(header, inc), piece.fileOffset - 42, Buffer.from("XXXX"));
    const refused = await startMap(["-i", header]).then(m => m.stop().then(() => "served"), (err: Error) => err.message);
    assert.match(refused, new RegExp(`${inc.replace(/\./g, "\\.")}`), "the error names the file");
    assert.deepEqual(fs.existsSync(MAPS_DIR) ? fs.readdirSync(MAPS_DIR) : [], before, "a refused mapping leaves nothing");

    // Inside the lz4 payload: found by the frame's checksums when that frame is read.
    const payload = copyChain(backup, "damage-payload");
    patch(path.join(payload, inc), piece.fileOffset + Math.floor(piece.storedLength / 2), Buffer.from("garbage!"));
    const map = await startMap(["-i", payload]);
    try {
        const uri = map.disks[0].uri;
        // nbdcopy hangs up with reads in flight when one fails: nbdkit 1.32 aborted on that now and then
        // (see nbdkit-server.ts), taking the mapping down; a few rounds make that show.
        for (let round = 0; round < 4; round++) {
            const whole = await run("nbdcopy", [uri, "null:"]);
            assert.notEqual(whole.code, 0, "reading the whole disk fails");
            assert.match(whole.stderr, /Input\/output error|I\/O error/i);
        }
        // What the damaged frame does not hold still reads, and the damaged one keeps failing.
        const handle = new Handle();
        try {
            await handle.connectUri(uri);
            assert.equal((await handle.pread(Buffer.alloc(32), 0)).toString(), "the first backup the first backu");
            for (let i = 0; i < 2; i++)
                await assert.rejects(handle.pread(Buffer.alloc(4096), piece.offset), /Input\/output error/);
        } finally {
            handle.close();
        }
    } finally {
        await map.stop();
    }

    // A plain chain's damaged payload only its .chksum shows: --verify checks them before serving.
    const plain = path.join(tmp, "damage-plain");
    await ours(false)(vm, "full", plain);
    const full = path.join(plain, "vda.full.data");
    patch(full, fs.statSync(full).size - 200, Buffer.from("garbage!"));
    const verified = await startMap(["-i", plain, "--verify"]).then(m => m.stop().then(() => "served"), (err: Error) => err.message);
    assert.match(verified, /vda\.full\.data: checksum mismatch/);
    await vm.cleanup();
});

test("two mappings of one point do not collide; a killed mapper's leftovers go at the next start", async (t) => {
    const vm = await TestVm.create({ disks: [{ size: "2T", writes: [{ offset: "1G", length: "4M", pattern: 0x77 }, { offset: "1500G", length: "1M", pattern: 0x78 }] }] });
    const backup = path.join(tmp, "two");
    await ours(false)(vm, "full", backup);
    await vm.write(0, { offset: "100G", length: "1M", pattern: 0x79 });
    await ours(false)(vm, "inc", backup);
    const expected = vm.expectedPath(0);

    // The engine API, twice: own folders and sockets, both serve the point. How fast a 2 TiB disk maps is a
    // benchmark row (npm run bench -- --map), not a timed assertion.
    const started = Date.now();
    const a = await mapPoint({ folder: backup });
    const startMs = Date.now() - started;
    const b = await mapPoint({ folder: backup });
    try {
        t.diagnostic(`a 2 TiB disk mapped in ${startMs} ms`);
        assert.notEqual(a.dir, b.dir);
        assert.notEqual(a.disks[0].socket, b.disks[0].socket);
        for (const m of [a, b]) {
            const st = fs.statSync(m.dir);
            assert.equal(st.mode & 0o777, 0o700, "root-only folder");
            const r = await run("qemu-img", ["compare", "-f", "raw", "-F", "raw", m.disks[0].uri, expected]);
            assert.equal(r.code, 0, r.stdout + r.stderr);
        }
        await a.stop();
        assert.ok(!fs.existsSync(a.dir));
        const r = await run("nbdinfo", ["--size", b.disks[0].uri]);
        assert.equal(r.stdout.trim(), String(2 ** 41), "the other mapping still serves");

        // A mapping for another user (QEMU's, for a VM started on it): that user connects, others do not.
        const user = await createLocalUser();
        const c = await mapPoint({ folder: backup, socketOwner: { uid: user.uid, gid: user.gid } });
        try {
            assert.equal((await user.run("nbdinfo", ["--size", c.disks[0].uri])).stdout.trim(), String(2 ** 41));
            assert.notEqual((await user.run("nbdinfo", ["--size", b.disks[0].uri])).code, 0, "a root-only mapping stays root's");
            assert.notEqual((await run("runuser", ["-u", "nobody", "--", "nbdinfo", "--size", c.disks[0].uri])).code, 0, "nobody else connects");
            assert.equal(fs.statSync(c.dir).mode & 0o777, 0o711);
        } finally {
            await c.stop();
            await user.remove();
        }
    } finally {
        await a.stop();
        await b.stop();
    }

    // SIGKILL: nbdkit ends with its parent; the folder stays until the next mapping starts.
    const killed = await startMap(["-i", backup]);
    const nbdkitPid = (JSON.parse(fs.readFileSync(path.join(killed.dir, "owner.json"), "utf8")) as { servers: number[] }).servers[0];
    assert.ok(processAlive(nbdkitPid));
    assert.equal(await killed.stop("SIGKILL"), null);
    for (let i = 0; i < 100 && processAlive(nbdkitPid); i++)
        await new Promise(resolve => setTimeout(resolve, 50));
    assert.ok(!processAlive(nbdkitPid), "nbdkit exits with the killed mapper");
    assert.ok(fs.existsSync(killed.dir), "the killed mapper's folder is left");
    const next = await startMap(["-i", backup, "-u", "virtnbdbackup.0"]);
    try {
        assert.ok(!fs.existsSync(killed.dir), "the next mapping removed it");
    } finally {
        await next.stop();
    }

    // The page's way: the helper maps a point of the VM's folder by name until its stdin closes.
    const helper = path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");
    const uuid = (await runOk("virsh", ["-c", "qemu:///system", "domuuid", "--domain", vm.name])).stdout.trim();
    try {
        await runOk(process.execPath, [helper, "set-settings", "--domain", vm.name, "--folder", backup, "--schedule", "off"]);
        const refused = await run(process.execPath, [helper, "map-restore-point", "--domain", vm.name, "--point", "virtnbdbackup.7"]);
        assert.equal(refused.code, 1);
        assert.equal(refused.stderr, `helper: virtnbdbackup.7 is not a complete restore point of ${vm.name}\n`);
        const bad = await run(process.execPath, [helper, "map-restore-point", "--domain", vm.name, "--point", "virtnbdbackup.0", "--disk", "../x"]);
        assert.equal(bad.code, 2, bad.stderr);
        const page = await startMapProcess([helper, "map-restore-point", "--domain", vm.name, "--point", "virtnbdbackup.0"]);
        assert.equal(page.point, "vda.full.data");
        const r = await run("qemu-img", ["compare", "-f", "raw", "-F", "raw", page.disks[0].uri, vm.expectedPath(0)]);
        assert.equal(r.code, 1, "the point before the last write differs from the disk now");
        const { code, rest } = await page.closeStdin();
        assert.equal(code, 0);
        assert.equal(rest, `{"event":"stopped"}\n`);
        assert.ok(!fs.existsSync(page.dir));
    } finally {
        removePluginState([uuid]);
    }
    await vm.cleanup();
});

test("the plugin serves what its index names, and refuses a damaged index or a file changed since, naming them", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, "plugin-"));
    const data = path.join(dir, "vda.full.data");
    fs.writeFileSync(data, Buffer.concat([Buffer.alloc(100, 0x41), Buffer.alloc(4096, 0x42)]));
    const st = fs.statSync(data, { bigint: true });
    const file = { path: data, lz4: false, size: st.size, mtimeNs: st.mtimeNs, dev: st.dev, ino: st.ino };
    // Disk: 4 KiB zeroes, then the file's 4 KiB of 0x42 (at byte 100 of the file).
    const index = (storedLength = 4096): MapIndex => ({
        diskSize: 8192,
        files: [file],
        extents: [
            { offset: 0, length: 4096, file: null, fileOffset: 0, storedLength: 0, frameOffset: 0, frameLength: 4096 },
            { offset: 4096, length: 4096, file: 0, fileOffset: 100, storedLength, frameOffset: 4096, frameLength: storedLength },
        ],
    });
    const serve = async (name: string, i: MapIndex) => {
        const at = path.join(dir, `${name}.index`);
        fs.writeFileSync(at, encodeMapIndex(i));
        return NbdkitServer.start(at, path.join(dir, `${name}.sock`), () => {});
    };

    const server = await serve("good", index());
    const handle = new Handle();
    try {
        await handle.connectUri(server.uri);
        const disk = await handle.pread(Buffer.alloc(8192), 0);
        assert.ok(disk.subarray(0, 4096).every(b => b === 0) && disk.subarray(4096).every(b => b === 0x42));
        assert.deepEqual(await blockMap(server.uri), [[0, 4096, 3], [4096, 4096, 0]]);
    } finally {
        handle.close();
        await server.stop();
    }
    await assert.rejects(serve("past-end", index(8192)), /damaged map index: an extent's bytes lie past the end of its file/);
    await assert.rejects(serve("garbage", { ...index(), extents: [] }), /damaged map index: the disk is empty/);
    fs.utimesSync(data, new Date(), new Date(Date.now() - 5000));
    await assert.rejects(serve("changed", index()), new RegExp(`${data}: changed since it was indexed`));
});
