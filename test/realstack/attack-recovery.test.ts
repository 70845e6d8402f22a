// SPDX-License-Identifier: GPL-3.0-or-later
// The recovery commands the root helper runs on paths a user typed, attacked by a real unprivileged user
// (useradd here, removed after) and by a crafted guest file system: browse-restore (guest files copied to a
// host folder), start-from-backup and move-instant-vm (overlays and moved disks in a host folder),
// check-folder (what the folder field learns), and the records under /run/virtnbdbackup (sessions,
// mappings, started VMs), whose cleanup removes what they name. Each attack is refused or fails clearly,
// nothing outside the chosen folders is written, read or deleted (a victim folder standing for /root),
// and nothing setuid, no device and no symlink reaches the host.
// One TestVm with one full backup serves every start; the browsed guest is a small ext4 image made here
// (mkfs.ext4 -d, debugfs for what mkfs cannot make), served by qemu-nbd, instead of the slow real guest.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { TestVm } from "../lib/vm.ts";
import { ourBackupOk } from "../lib/backup-cli.ts";
import { run, runOk, type RunResult } from "../lib/exec.ts";
import { createLocalUser, userFolder as makeUserFolder, type LocalUser } from "../lib/local-user.ts";
import { createVictims, refused, type Victims } from "../lib/victims.ts";
import { testBed } from "../lib/test-bed.ts";
import { HELPER, helper as runHelper, serveImage, type NbdServer } from "../lib/guest-browse.ts";
import { RUN_DIR } from "../../helper/backup/run-dir.ts";
import { BROWSE_DIR } from "../../helper/browse/paths.ts";
import { INSTANT_DIR } from "../../helper/instant/instant-record.ts";
import { MAPS_DIR } from "../../helper/map/map-dirs.ts";

const URI = "qemu:///system";
// Under /var/tmp and reachable by the user, who attacks the folders below it.
const bed = testBed({ name: "recovery", workParent: "/var/tmp", workMode: 0o755 });
let user: LocalUser;
let victims: Victims;
/** Root's place for the test's folders: /var/tmp/vnbt-...-recovery-XXXX, 0755 (the user reaches what is in it). */
let work: string;
let server: NbdServer | undefined;
let session: string | undefined;
let vm: TestVm;
const started: string[] = [];
/** A file of the guest big enough that the copy takes a moment (the user's attempts run meanwhile). */
const BIG = 12 * 1024 * 1024;
/** A sparse guest file's size (4 KiB of data at its end): far more than the guest file system holds. */
const SPARSE = 256 * 1024 * 1024;

const helper = (...args: string[]) => runHelper(args);
const userFolder = (name: string) => makeUserFolder(user, work, name);
const modeOf = (file: string) => fs.lstatSync(file).mode & 0o7777;
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/**
 * The guest file system: a file, a setuid file, a character and a block device, a fifo, symlinks out of
 * the guest (/etc/shadow, ../../..), a hard link, a name starting with dots, a big file, a sparse file
 * larger than the file system, and a folder linked into itself (a directory hard link, which only a
 * crafted file system has).
 */
async function guestImage(): Promise<string> {
    const stage = path.join(work, "stage");
    fs.mkdirSync(path.join(stage, "dir", "sub"), { recursive: true });
    fs.writeFileSync(path.join(stage, "hello.txt"), "hello from the guest\n");
    fs.linkSync(path.join(stage, "hello.txt"), path.join(stage, "dir", "hardlink.txt"));
    fs.writeFileSync(path.join(stage, "suid"), "#!/bin/sh\nid\n", { mode: 0o4755 });
    fs.chmodSync(path.join(stage, "suid"), 0o4755);
    fs.chmodSync(path.join(stage, "dir"), 0o2777);
    await runOk("mknod", [path.join(stage, "null"), "c", "1", "3"]);
    await runOk("mknod", [path.join(stage, "sda"), "b", "8", "0"]);
    await runOk("mkfifo", [path.join(stage, "fifo")]);
    fs.symlinkSync("/etc/shadow", path.join(stage, "shadowlink"));
    fs.symlinkSync("../../../../", path.join(stage, "up"));
    fs.writeFileSync(path.join(stage, "..dots"), "dots\n");
    fs.writeFileSync(path.join(stage, "dir", "big.bin"), Buffer.alloc(BIG, 0x5a));
    const sparse = fs.openSync(path.join(stage, "dir", "sparse.bin"), "w");
    fs.writeSync(sparse, Buffer.alloc(4096, 0x42), 0, 4096, SPARSE - 4096);
    fs.closeSync(sparse);
    const image = path.join(work, "guest.raw");
    fs.writeFileSync(image, "");
    fs.truncateSync(image, 48 * 1024 * 1024);
    await runOk("mkfs.ext4", ["-q", "-F", "-d", stage, image]);
    await runOk("debugfs", ["-w", "-R", "link /dir /dir/sub/loop", image]);
    return image;
}

bed.before(async () => {
    // The file's own teardown, newest first: the browse session, the image's server and the started VMs,
    // then the user, then the victim folder.
    bed.onTeardown(() => victims?.remove());
    bed.onTeardown(() => user?.remove());
    bed.onTeardown(async () => {
        if (session)
            await helper("browse-close", "--session", session);
        await server?.stop();
        for (const name of started) {
            await helper("discard-instant-vm", "--name", name);
            await run("virsh", ["-c", URI, "destroy", name]);
            await run("virsh", ["-c", URI, "undefine", name, "--nvram"]);
        }
    });
    user = await createLocalUser();
    victims = createVictims("recovery", dir => {
        // A folder named like a browse session and one like a mapping, old enough for a sweep to take them
        // for leftovers: what a redirected cleanup would remove.
        const hourAgo = new Date(Date.now() - 3600_000);
        for (const name of ["0123456789abcdef", "fedcba9876543210"]) {
            fs.mkdirSync(path.join(dir, name));
            fs.writeFileSync(path.join(dir, name, "kept"), "must stay\n");
            fs.utimesSync(path.join(dir, name), hourAgo, hourAgo);
        }
    });
    work = bed.work;
    const sockets = path.join(work, "sockets");
    fs.mkdirSync(sockets, { mode: 0o700 });
    server = await serveImage(await guestImage(), "raw", sockets);
    const opened = await helper("browse-open", "--socket", server.socket);
    assert.equal(opened.code, 0, opened.stderr);
    session = (JSON.parse(opened.stdout) as { session: string }).session;
    vm = await bed.vm({ disks: [{ size: "32M", writes: [{ offset: 0, length: "2M", random: true, seed: 7 }] }] });
    await ourBackupOk(["-d", vm.name, "-l", "full", "-o", path.join(work, "backup")]);
    await runOk(process.execPath, [HELPER, "set-settings", "--domain", vm.name, "--folder", path.join(work, "backup"), "--schedule", "off"]);
});

/** Every entry under `dir` (itself included) with its lstat. */
function tree(dir: string): [string, fs.Stats][] {
    return [dir, ...fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).map(n => path.join(dir, n))].map(f => [f, fs.lstatSync(f)]);
}

/** Runs `attempts` as the user, over and over, until `during` settles; returns how many rounds ran. */
async function whileRunning<T>(attempts: string[][], during: Promise<T>): Promise<{ result: T; rounds: number; succeeded: string[] }> {
    let running = true;
    const succeeded: string[] = [];
    const loop = (async () => {
        let rounds = 0;
        while (running) {
            for (const a of attempts) {
                if ((await user.run(a[0]!, a.slice(1))).code === 0)
                    succeeded.push(a.join(" "));
            }
            rounds++;
            await sleep(20);
        }
        return rounds;
    })();
    const result = await during.finally(() => { running = false; });
    return { result, rounds: await loop, succeeded };
}

describe("browse-restore: guest files copied into a host folder", () => {
    const restore = (guestPath: string, to: string) =>
        helper("browse-restore", "--session", session!, "--volume", "disk", "--path", guestPath, "--to", to);

    test("a folder of the user, one below it swapped for a symlink, the user's names in /var/tmp: refused, nothing written", async () => {
        const own = userFolder("restore-own");
        await user.runOk("ln", ["-s", victims.secret, path.join(own, "hello.txt")]);
        refused(await victims.untouched(() => restore("/hello.txt", own)), new RegExp(`${own} is owned by user ${user.name}: the restore folder`));
        const parent = userFolder("restore-parent");
        await user.runOk("ln", ["-s", victims.dir, path.join(parent, "target")]);
        refused(await victims.untouched(() => restore("/hello.txt", path.join(parent, "target"))), new RegExp(`${parent}(/target)? is (a symbolic link )?owned by user ${user.name}`));
        // In the sticky /var/tmp the user may take any free name: a symlink to root's folder, or a folder of theirs.
        const link = `/var/tmp/vnbt-${process.pid}-restore-link`;
        const taken = `/var/tmp/vnbt-${process.pid}-restore-taken`;
        try {
            await user.runOk("ln", ["-s", victims.dir, link]);
            await user.runOk("mkdir", [taken]);
            refused(await victims.untouched(() => restore("/hello.txt", link)), new RegExp(`${link} is a symbolic link owned by user ${user.name}`));
            refused(await victims.untouched(() => restore("/hello.txt", path.join(taken, "deeper"))), new RegExp(`${taken} is owned by user ${user.name}`));
            assert.deepEqual(fs.readdirSync(taken), []);
        } finally {
            fs.rmSync(link, { force: true });
            fs.rmSync(taken, { recursive: true, force: true });
        }
        assert.deepEqual(fs.readdirSync(own).sort(), ["hello.txt"]);
    });

    test("a system folder, typed or reached through a symlink, is refused: guest bytes never land in /etc", async () => {
        const inEtc = `/etc/vnbt-${process.pid}-restore`;
        refused(await restore("/hello.txt", inEtc), /the restore folder may not be \/etc or inside it/);
        const toEtc = path.join(work, "to-etc");
        fs.symlinkSync("/etc", toEtc);
        refused(await restore("/hello.txt", path.join(toEtc, `vnbt-${process.pid}-restore`)), new RegExp(`leads to ${inEtc}: the restore folder may not be /etc`));
        assert.equal(fs.existsSync(inEtc), false);
    });

    test("a symlink root left under the restored name in a trusted folder is not written through", async () => {
        const dir = path.join(work, "trusted-restore");
        fs.mkdirSync(dir, { mode: 0o700 });
        fs.symlinkSync(victims.secret, path.join(dir, "hello.txt"));
        refused(await victims.untouched(() => restore("/hello.txt", dir)), /hello\.txt already exists; nothing was restored/);
        assert.ok(fs.lstatSync(path.join(dir, "hello.txt")).isSymbolicLink());
    });

    test("'..' and guest symlinks never leave the guest's file system", async () => {
        refused(await restore("/up/../hello.txt", path.join(work, "dots")), /'\.\.' components/);
        // /up leads to the guest's root, /shadowlink to the guest's /etc/shadow: this guest has none.
        refused(await victims.untouched(() => restore("/up/shadowlink", path.join(work, "dots"))), /\/etc does not exist/);
        const r = await restore("/up/up/hello.txt", path.join(work, "dots"));
        assert.equal(r.code, 0, r.stderr);
        assert.equal(fs.readFileSync(path.join(work, "dots", "hello.txt"), "utf8"), "hello from the guest\n");
    });

    test("the whole guest: no setuid bit, device, fifo or symlink reaches the host, a self-linked folder is skipped, the user reaches nothing, before or while it runs", async () => {
        const to = path.join(work, "whole");
        const copy = path.join(to, "disk");
        const attempts = [["ln", "-s", victims.dir, path.join(copy, "dir", "planted")], ["mv", to, path.join(work, "stolen")],
            ["mv", copy, path.join(work, "stolen")], ["ln", "-s", victims.dir, path.join(to, "planted")], ["ls", copy]];
        const { result: r, rounds, succeeded } = await whileRunning(attempts, victims.untouched(() => restore("/", to)));
        assert.equal(r.code, 0, r.stderr);
        assert.ok(rounds > 0);
        assert.deepEqual(succeeded, []);
        const answer = JSON.parse(r.stdout) as { target: string; files: number; folders: number; bytes: number; skipped: string[] };
        assert.equal(answer.target, copy);
        assert.deepEqual(answer.skipped.sort(), ["/dir/sub/loop", "/fifo", "/null", "/sda", "/shadowlink", "/up"]);
        assert.equal(answer.files, 6);  // hello.txt, dir/hardlink.txt, dir/big.bin, dir/sparse.bin, suid, ..dots
        assert.equal(answer.bytes, BIG + SPARSE + 2 * "hello from the guest\n".length + "#!/bin/sh\nid\n".length + "dots\n".length);
        // The sparse file keeps its holes: the host disk holds its data, not its size.
        const sparse = fs.statSync(path.join(copy, "dir", "sparse.bin"));
        assert.equal(sparse.size, SPARSE);
        assert.ok(sparse.blocks * 512 <= 1024 * 1024, `${sparse.blocks} blocks allocated`);
        const tail = Buffer.alloc(8192);
        const fd = fs.openSync(path.join(copy, "dir", "sparse.bin"), "r");
        fs.readSync(fd, tail, 0, 8192, SPARSE - 8192);
        fs.closeSync(fd);
        assert.deepEqual(tail, Buffer.concat([Buffer.alloc(4096), Buffer.alloc(4096, 0x42)]));
        for (const [file, st] of tree(to)) {
            assert.ok(st.isFile() || st.isDirectory(), `${file}: only files and folders`);
            assert.equal(st.uid, 0, file);
            assert.equal(modeOf(file), st.isFile() ? 0o600 : 0o700, `${file}: no setuid, setgid, sticky, group or other bits`);
        }
        assert.equal(fs.readFileSync(path.join(copy, "suid"), "utf8"), "#!/bin/sh\nid\n");
        assert.notEqual(fs.statSync(path.join(copy, "hello.txt")).ino, fs.statSync(path.join(copy, "dir", "hardlink.txt")).ino, "a hard link becomes a file of its own");
        assert.equal(fs.readFileSync(path.join(copy, "dir", "hardlink.txt"), "utf8"), "hello from the guest\n");
        assert.deepEqual(fs.readdirSync(path.join(copy, "dir", "sub")), []);
        for (const a of attempts)
            assert.notEqual((await user.run(a[0]!, a.slice(1))).code, 0, a.join(" "));
        assert.notEqual((await user.run("cat", [path.join(copy, "hello.txt")])).code, 0);
    });
});

describe("start from backup and move to storage", () => {
    const start = (name: string, folder: string) =>
        run(process.execPath, [HELPER, "start-from-backup", "--domain", vm.name, "--point", "virtnbdbackup.0", "--name", name, "--folder", folder],
            { timeoutMs: 240_000 });
    const vmState = async (name: string) => {
        const r = await run("virsh", ["-c", URI, "domstate", name]);
        return r.code === 0 ? r.stdout.trim() : null;
    };

    test("an overlay folder of the user, below one, the user's symlink, a system folder: refused before anything starts", async () => {
        const name = `${vm.name}-a`;
        const own = userFolder("overlays-own");
        for (const file of [`${name}.vda.qcow2`, `${name}.xml`])
            await user.runOk("ln", ["-s", victims.secret, path.join(own, file)]);
        const parent = userFolder("overlays-parent");
        await user.runOk("ln", ["-s", victims.dir, path.join(parent, "overlays")]);
        const cases: [string, RegExp][] = [
            [own, new RegExp(`${own} is owned by user ${user.name}: an overlay folder`)],
            [path.join(parent, "overlays"), new RegExp(`${parent}(/overlays)? is (a symbolic link )?owned by user ${user.name}`)],
            [`/etc/vnbt-${process.pid}-overlays`, /an overlay folder may not be \/etc or inside it/],
            [`/usr/lib/vnbt-${process.pid}-overlays`, /an overlay folder may not be \/usr or inside it/],
        ];
        for (const [folder, message] of cases) {
            const r = await victims.untouched(() => start(name, folder));
            refused(r, message);
            assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        }
        assert.equal(await vmState(name), null);
        assert.equal(fs.existsSync(path.join(INSTANT_DIR, `${name}.json`)), false);
        assert.equal(fs.existsSync(`/etc/vnbt-${process.pid}-overlays`), false);
    });

    test("a symlink root left under an overlay's name in a trusted folder: refused, not written through", async () => {
        const name = `${vm.name}-b`;
        const dir = path.join(work, "overlays-planted");
        fs.mkdirSync(dir, { mode: 0o711 });
        fs.symlinkSync(victims.secret, path.join(dir, `${name}.vda.qcow2`));
        const r = await victims.untouched(() => start(name, dir));
        refused(r, new RegExp(`${name}\\.vda\\.qcow2 already exists; refusing to overwrite it`));
        assert.equal(await vmState(name), null);
        assert.deepEqual(fs.readdirSync(dir), [`${name}.vda.qcow2`]);
    });

    test("a start into a new folder in /var/tmp, the user taking its name first or planting while it runs; then moves into the user's folder and /boot refused, into a trusted one done", async () => {
        const name = `${vm.name}-c`;
        const folder = `/var/tmp/vnbt-${process.pid}-overlays`;
        try {
            // In the sticky /var/tmp the user may take the free name first: refused, nothing made in it.
            await user.runOk("mkdir", [folder]);
            refused(await victims.untouched(() => start(name, folder)), new RegExp(`${folder} is owned by user ${user.name}: an overlay folder`));
            assert.deepEqual(fs.readdirSync(folder), []);
            fs.rmSync(folder, { recursive: true });
            // While the start runs: planting into the folder, moving it away; none of it ever works.
            const attempts = [["ln", "-s", victims.secret, path.join(folder, `${name}.xml`)], ["ln", "-s", victims.dir, path.join(folder, "x")],
                ["mv", folder, path.join(work, "stolen")]];
            const raced = await whileRunning(attempts, victims.untouched(() => start(name, folder)));
            const r = raced.result;
            assert.equal(r.code, 0, r.stderr);
            assert.ok(raced.rounds > 0);
            assert.deepEqual(raced.succeeded, [], "the user got nothing into the folder");
            started.push(name);
            assert.equal(await vmState(name), "running");
            const st = fs.lstatSync(folder);
            assert.ok(st.isDirectory() && st.uid === 0 && modeOf(folder) === 0o711, "the folder is root's, 0711");
            const overlay = path.join(folder, `${name}.vda.qcow2`);
            assert.equal(modeOf(overlay), 0o600);
            assert.equal(modeOf(path.join(folder, `${name}.xml`)), 0o600);
            for (const attempt of [["ls", folder], ["cat", overlay], ["ln", "-s", victims.dir, path.join(folder, "y")]])
                assert.notEqual((await user.run(attempt[0]!, attempt.slice(1))).code, 0, attempt.join(" "));

            // The records, the mapping and its sockets: root's alone; the user lists and plants nothing there.
            for (const dir of [RUN_DIR, INSTANT_DIR, MAPS_DIR, BROWSE_DIR]) {
                const d = fs.lstatSync(dir);
                assert.ok(d.isDirectory() && d.uid === 0 && (d.mode & 0o022) === 0, dir);
                for (const attempt of [["ls", dir], ["ln", "-s", victims.dir, path.join(dir, "planted")], ["mkdir", path.join(dir, "0000000000000000")]])
                    assert.notEqual((await user.run(attempt[0]!, attempt.slice(1))).code, 0, attempt.join(" "));
            }
            assert.notEqual((await user.run("cat", [path.join(INSTANT_DIR, `${name}.json`)])).code, 0);
            assert.notEqual((await user.run("ls", [path.join(BROWSE_DIR, session!)])).code, 0);

            // Move to storage: the user's folder and a system folder refused, the VM runs on; a trusted folder works.
            const own = userFolder("moved-own");
            await user.runOk("ln", ["-s", victims.secret, path.join(own, `${name}.vda.moved.qcow2`)]);
            const move = (to: string) => run(process.execPath, [HELPER, "move-instant-vm", "--name", name, "--folder", to], { timeoutMs: 240_000 });
            refused(await victims.untouched(() => move(own)), new RegExp(`${own} is owned by user ${user.name}: a folder for the moved disks`));
            refused(await move(`/boot/vnbt-${process.pid}-moved`), /a folder for the moved disks may not be \/boot/);
            assert.equal(await vmState(name), "running");
            const storage = path.join(work, "moved");
            const moved = await victims.untouched(() => move(storage));
            assert.equal(moved.code, 0, moved.stderr);
            const copy = path.join(storage, `${name}.vda.moved.qcow2`);
            assert.equal(modeOf(storage), 0o711);
            assert.equal(fs.lstatSync(copy).isFile(), true);
            assert.equal(modeOf(copy) & 0o7077, 0, `${copy}: no setuid bit, no group or other access`);
            assert.notEqual((await user.run("cat", [copy])).code, 0);
            assert.deepEqual(fs.readdirSync(folder), [], "the overlays went with the move");
        } finally {
            fs.rmSync(folder, { recursive: true, force: true });
        }
    });
});

describe("check-folder: what the folder field learns", () => {
    const check = (folder: string) => run(process.execPath, [HELPER, "check-folder", "--domain", vm.name, "--folder", folder], { timeoutMs: 60_000 });

    test("a fifo, the user's symlink loop, root's, another user's private folder: answered at once with a refusal, no name inside listed", async () => {
        const base = `/var/tmp/vnbt-${process.pid}-check`;
        const fifo = `${base}-fifo`;
        const loop = `${base}-loop`;
        const home = path.join(user.home, "private");
        const rootLoop = `${base}-root-loop`;
        try {
            await user.runOk("mkfifo", [fifo]);
            await user.runOk("ln", ["-s", loop, loop]);
            await user.runOk("mkdir", ["-m", "700", home]);
            await user.runOk("touch", [path.join(home, "diary-of-the-user")]);
            fs.symlinkSync(rootLoop, rootLoop);
            const cases: [string, RegExp][] = [
                [fifo, new RegExp(`${fifo} exists and is not a folder`)],
                [path.join(fifo, "x"), new RegExp(`${fifo}/x exists and is not a folder`)],
                [loop, new RegExp(`${loop} is a symbolic link owned by user ${user.name}`)],
                [path.join(loop, "x"), new RegExp(`${loop} is a symbolic link owned by user ${user.name}`)],
                [home, new RegExp(`is owned by user ${user.name}`)],
                [path.join(home, "x"), new RegExp(`is owned by user ${user.name}`)],
                [path.join(rootLoop, "x"), new RegExp(`${rootLoop} is a symbolic link that loops`)],
            ];
            for (const [folder, problem] of cases) {
                const r = await check(folder);
                assert.equal(r.code, 0, r.stderr);
                const answer = JSON.parse(r.stdout) as { problem?: string; facts?: unknown };
                assert.match(answer.problem ?? "", problem, folder);
                assert.equal(answer.facts, undefined, folder);
                assert.ok(!r.stdout.includes("diary"), r.stdout);
            }
        } finally {
            fs.rmSync(fifo, { force: true });
            fs.rmSync(loop, { force: true });
            fs.rmSync(rootLoop, { force: true });
        }
    });

    test("root's own folder: only how many entries are not backups, never their names", async () => {
        const r = await victims.untouched(() => check(victims.dir));
        assert.equal(r.code, 0, r.stderr);
        const answer = JSON.parse(r.stdout) as { facts: { exists: boolean; foreignEntries: number; diskImages: string[] } };
        assert.deepEqual(answer.facts, { exists: true, foreignEntries: 3, diskImages: [] });
        assert.ok(!/secret|0123456789abcdef/.test(r.stdout), r.stdout);
    });
});

describe("the records under /run/virtnbdbackup", () => {
    /**
     * Runs the helper in a mount namespace of its own whose /run/virtnbdbackup is a new tmpfs of `mode`
     * (the host's stays as it is for the other tests), after `plant`: shell lines run there first, as
     * root or (runuser) as the user.
     */
    function inPrivateRun(mode: string, plant: string[], args: string[]): Promise<RunResult> {
        fs.mkdirSync(RUN_DIR, { recursive: true, mode: 0o711 });
        const script = ["set -e", `mount -t tmpfs -o mode=${mode} vnbt-run ${RUN_DIR}`, ...plant, "set +e",
            `exec ${[process.execPath, HELPER, ...args].join(" ")}`].join("\n");
        return run("unshare", ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", script], { timeoutMs: 120_000 });
    }
    const asUser = (line: string) => `runuser -u ${user.name} -- /bin/sh -c '${line}'`;
    /** A record of a started VM whose holder is gone, naming root's secret as one of its files. */
    const record = () => JSON.stringify({ name: "x", domain: "x", point: "p", state: "running", pid: 999_999_999, start: null, files: [victims.dir + "/secret"], disks: [], startedAt: 0 });
    /** A mapping's owner file of a gone process. */
    const owner = JSON.stringify({ pid: 999_999_999, start: null, servers: [] });

    test("a /run/virtnbdbackup every user can write (made by hand): the user's symlinks and records there redirect no read, write or delete", async () => {
        const cases: [string[], string[]][] = [
            // The browse folder a symlink to root's folder holding a session-like folder: a sweep would remove it.
            [[asUser(`ln -s ${victims.dir} ${BROWSE_DIR}`)], ["browse-close", "--session", "0123456789abcdef"]],
            [[asUser(`ln -s ${victims.dir} ${BROWSE_DIR}`)], ["browse-open", "--socket", server!.socket]],
            // The maps folder the same way (every browse command and discard sweep stale mappings).
            [[asUser(`ln -s ${victims.dir} ${MAPS_DIR}`)], ["browse-close", "--session", "0123456789abcdef"]],
            // A record of the user's naming root's secret as a file of its VM: discard and every start remove those.
            [[asUser(`mkdir ${INSTANT_DIR} && printf '%s' '${record()}' > ${INSTANT_DIR}/x.json`)], ["discard-instant-vm", "--name", "x"]],
            [[asUser(`mkdir ${INSTANT_DIR} && printf '%s' '${record()}' > ${INSTANT_DIR}/x.json`)],
                ["start-from-backup", "--domain", vm.name, "--point", "virtnbdbackup.0", "--name", "y", "--folder", path.join(work, "never")]],
            [[asUser(`mkdir ${INSTANT_DIR} && printf '%s' '${record()}' > ${INSTANT_DIR}/x.json`)], ["list-instant-vms"]],
            // A record's holder log planted as a symlink: a start would open it for its output.
            [[asUser(`mkdir ${INSTANT_DIR} && ln -s ${victims.secret} ${INSTANT_DIR}/y.log`)],
                ["start-from-backup", "--domain", vm.name, "--point", "virtnbdbackup.0", "--name", "y", "--folder", path.join(work, "never")]],
        ];
        for (const [plant, args] of cases) {
            const r = await victims.untouched(() => inPrivateRun("1777", plant, args));
            refused(r, /refusing \/run\/virtnbdbackup: writable by group or others \(mode 1777\)/);
        }
        assert.equal(fs.existsSync(path.join(work, "never")), false);
    });

    test("a records folder given to the user (root's /run/virtnbdbackup, the folder chowned by hand): refused the same way", async () => {
        const give = (dir: string, fill: string) => [`mkdir -m 700 ${dir}`, `chown ${user.uid}:${user.gid} ${dir}`, asUser(fill)];
        const cases: [string[], string[]][] = [
            [give(BROWSE_DIR, `mkdir ${BROWSE_DIR}/0123456789abcdef && ln -s ${victims.dir}/0123456789abcdef ${BROWSE_DIR}/0123456789abcdef/mnt`),
                ["browse-close", "--session", "0123456789abcdef"]],
            [give(MAPS_DIR, `mkdir ${MAPS_DIR}/fedcba9876543210 && printf '%s' '${owner}' > ${MAPS_DIR}/fedcba9876543210/owner.json`),
                ["browse-close", "--session", "0123456789abcdef"]],
            [give(INSTANT_DIR, `printf '%s' '${record()}' > ${INSTANT_DIR}/x.json`), ["discard-instant-vm", "--name", "x"]],
        ];
        for (const [plant, args] of cases) {
            const r = await victims.untouched(() => inPrivateRun("0711", plant, args));
            refused(r, new RegExp(`refusing /run/virtnbdbackup/(browse|maps|instant): owned by uid ${user.uid}`));
        }
    });
});
