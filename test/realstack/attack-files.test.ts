// SPDX-License-Identifier: GPL-3.0-or-later
// Issue 10, section 2, tried by a real unprivileged user (useradd here, removed after): a backup or restore
// folder the user can change, symlinks planted under the names the root helper creates, folders swapped
// for a symlink to a root-only place, the page's hidden runner commands with bad values, and a libvirt
// URI that runs a command. Each is refused or fails clearly, and nothing outside the chosen folders is
// written, read or deleted: a victim folder standing for /root or /etc is compared before and after.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { TestVm } from "../lib/vm.ts";
import { ourBackup, ourBackupOk, ourCli, ourRestore, ourRestoreOk } from "../lib/backup-cli.ts";
import { run } from "../lib/exec.ts";
import { createLocalUser, userFolder as makeUserFolder, type LocalUser } from "../lib/local-user.ts";
import { createVictims, refused, type Victims } from "../lib/victims.ts";
import { JOBS_DIR } from "../lib/plugin-state.ts";
import { testBed } from "../lib/test-bed.ts";
import { logFileName } from "../../helper/format/index.ts";

const HELPER = path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");

// The user must reach the folders the attacks are about (as a user reaches /srv or their home).
const bed = testBed({ name: "attack", workMode: 0o755 });
let vm: TestVm;
let uuid: string;
let user: LocalUser;
/** Root's own place for the test's folders: /tmp/vnbt-...-attack (0700 in the sticky /tmp). */
let work: string;
/** Stands for /root and /etc: root-only, holding a file whose content, mode and times must not change. */
let victimFolder: Victims;
let victims: string;
/** A good full backup (root's, trusted) to restore from. */
let backup: string;

const helper = (...args: string[]) => run(process.execPath, [HELPER, ...args], { timeoutMs: 120_000 });

/** Runs `attack` and asserts the victim folder is exactly as before (test/lib/victims.ts). */
const untouched = <T>(attack: () => Promise<T>): Promise<T> => victimFolder.untouched(attack);

function mode(file: string): number {
    return fs.statSync(file).mode & 0o7777;
}

/** A folder under `work` owned by the attacker (as if it were their home or a group share). */
const userFolder = (name: string): string => makeUserFolder(user, work, name);

bed.before(async () => {
    bed.onTeardown(() => {
        victimFolder?.remove();
        fs.rmSync(`/tmp/vnbt-${process.pid}-x`, { force: true });
        fs.rmSync(`/tmp/vnbt-${process.pid}-ran`, { force: true });
    });
    bed.onTeardown(() => user?.remove());
    user = await createLocalUser();
    work = bed.work;
    victimFolder = createVictims("victims");
    victims = victimFolder.dir;
    vm = await bed.vm({ disks: [{ size: "32M", writes: [{ offset: 0, length: "4M", random: true, seed: 5 }] }] });
    uuid = bed.uuid(vm);
    backup = path.join(work, "good");
    await ourBackupOk(["-d", vm.name, "-l", "full", "-o", backup]);
});

describe("a backup folder the user can change", () => {
    test("the user's own folder, with symlinks planted under the names the run creates: refused, nothing written through them", async () => {
        const dir = userFolder("users-own");
        const stamp = new Date();
        const names = ["vda.full.data.partial", "vda.full.data", `${vm.name}.cpt`, ".virtnbdbackup.journal", "checkpoints",
            ...Array.from({ length: 60 }, (_, i) => logFileName("full", new Date(stamp.getTime() + (i - 2) * 1000)))];
        for (const name of names)
            await user.runOk("ln", ["-s", path.join(victims, "secret"), path.join(dir, name)]);
        const r = await untouched(() => ourBackup(["-d", vm.name, "-l", "full", "-o", dir]));
        refused(r, new RegExp(`${dir} is owned by user ${user.name}: a backup folder and every folder above it must be writable only by root`));
    });

    test("a root folder writable by the user's group: refused", async () => {
        const dir = path.join(work, "group-share");
        fs.mkdirSync(dir, { mode: 0o775 });
        fs.chmodSync(dir, 0o775);
        fs.chownSync(dir, 0, user.gid);
        await user.runOk("ln", ["-s", path.join(victims, "secret"), path.join(dir, "vda.full.data.partial")]);
        const r = await untouched(() => ourBackup(["-d", vm.name, "-l", "full", "-o", dir]));
        refused(r, new RegExp(`${dir} is writable by group ${user.name}: a backup folder`));
    });

    test("root's folder below a folder of the user, swapped for a symlink to a root-only place between runs: refused both times", async () => {
        const parent = userFolder("users-parent");
        const dir = path.join(parent, "backup");
        fs.mkdirSync(dir, { mode: 0o700 });
        const first = await untouched(() => ourBackup(["-d", vm.name, "-l", "full", "-o", dir]));
        refused(first, new RegExp(`${parent} is owned by user ${user.name}`));
        // The swap: what the user can do to any folder inside one of theirs.
        await user.runOk("mv", [dir, path.join(parent, "moved")]);
        await user.runOk("ln", ["-s", victims, dir]);
        const second = await untouched(() => ourBackup(["-d", vm.name, "-l", "full", "-o", dir]));
        assert.notEqual(second.code, 0);
        assert.match(second.stderr, new RegExp(`(${parent}|${victims}) is owned by user|${parent} is owned by user`));
    });

    test("a trusted folder cannot be swapped or planted into by the user, before or during a run", async () => {
        const dir = path.join(work, "trusted", "backup");
        await ourBackupOk(["-d", vm.name, "-l", "full", "-o", dir]);
        // The run made both folders, 0700: the user can neither rename them nor plant a name in them.
        for (const attempt of [["mv", dir, path.join(work, "stolen")], ["mv", path.join(work, "trusted"), path.join(work, "stolen")],
            ["ln", "-s", victims, path.join(dir, "vda.inc.virtnbdbackup.1.data.partial")], ["ln", "-s", victims, path.join(work, "trusted", "x")]])
            assert.notEqual((await user.run(attempt[0]!, attempt.slice(1))).code, 0, attempt.join(" "));
        // During an inc: the same attempts, in a loop, while it runs.
        let running = true;
        const tries = (async () => {
            let n = 0;
            while (running) {
                await user.run("ln", ["-s", victims, path.join(dir, "vda.inc.virtnbdbackup.1.data.partial")]);
                await user.run("mv", [path.join(work, "trusted"), path.join(work, "stolen")]);
                await new Promise(resolve => setTimeout(resolve, 50));
                n++;
            }
            return n;
        })();
        const inc = await untouched(() => ourBackup(["-d", vm.name, "-l", "inc", "-o", dir]));
        running = false;
        assert.ok(await tries > 0);
        assert.equal(inc.code, 0, inc.stderr);
        assert.ok(fs.existsSync(path.join(dir, "vda.inc.virtnbdbackup.1.data")));
        assert.ok(!fs.existsSync(path.join(work, "stolen")));
    });

    test("symlinks left (by root) under the names a run creates are never written through: the run fails clearly", async () => {
        const dir = path.join(work, "planted");
        await ourBackupOk(["-d", vm.name, "-l", "full", "-o", dir]);
        const stamp = new Date();
        const logs = Array.from({ length: 60 }, (_, i) => logFileName("inc", new Date(stamp.getTime() + (i - 2) * 1000)));
        for (const name of logs)
            fs.symlinkSync(path.join(victims, "secret"), path.join(dir, name));
        const r = await untouched(() => ourBackup(["-d", vm.name, "-l", "inc", "-o", dir]));
        refused(r, /\.log is (a symbolic link|not a regular file).*refusing/);
        for (const name of logs)
            fs.rmSync(path.join(dir, name));
        fs.symlinkSync(path.join(victims, "secret"), path.join(dir, "vda.inc.virtnbdbackup.1.data.partial"));
        const r2 = await untouched(() => ourBackup(["-d", vm.name, "-l", "inc", "-o", dir]));
        refused(r2, /vda\.inc\.virtnbdbackup\.1\.data\.partial(\): start a new chain| already exists| exists and is a symbolic link)/);
        assert.ok(fs.lstatSync(path.join(dir, "vda.inc.virtnbdbackup.1.data.partial")).isSymbolicLink());
    });

    test("what a run makes is root's alone: folders 0700, files 0600", async () => {
        const dir = path.join(work, "modes", "deeper", "backup");
        await ourBackupOk(["-d", vm.name, "-l", "full", "-o", dir]);
        await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", dir]);
        for (const d of [path.join(work, "modes"), path.join(work, "modes", "deeper"), dir, path.join(dir, "checkpoints")])
            assert.equal(mode(d), 0o700, d);
        const files = fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter(f => fs.statSync(path.join(dir, f)).isFile());
        assert.ok(files.some(f => f.endsWith(".data")) && files.some(f => f.endsWith(".log")) && files.some(f => f.startsWith("vmconfig")) && files.some(f => f.endsWith(".cpt")), files.join(" "));
        for (const f of files)
            assert.equal(mode(path.join(dir, f)), 0o600, f);
    });
});

describe("restore", () => {
    test("into a folder of the user, or below one, swapped for a symlink: refused, nothing lands outside", async () => {
        const own = userFolder("restore-own");
        await user.runOk("ln", ["-s", path.join(victims, "secret"), path.join(own, "vda.partial")]);
        refused(await untouched(() => ourRestore(["-i", backup, "-o", own])), new RegExp(`${own} is owned by user ${user.name}: a restore folder`));
        const parent = userFolder("restore-parent");
        await user.runOk("ln", ["-s", victims, path.join(parent, "target")]);
        refused(await untouched(() => ourRestore(["-i", backup, "-o", path.join(parent, "target")])), new RegExp(`${victims} is owned|${parent} is owned by user`));
    });

    test("from a backup folder the user can change (its config names where boot files go): refused", async () => {
        const copy = userFolder("users-backup");
        for (const name of fs.readdirSync(backup).filter(n => fs.statSync(path.join(backup, n)).isFile()))
            fs.copyFileSync(path.join(backup, name), path.join(copy, name));
        refused(await untouched(() => ourRestore(["-i", copy, "-o", path.join(work, "from-users")])), new RegExp(`${copy} is owned by user ${user.name}: a backup folder restored from`));
        assert.ok(!fs.existsSync(path.join(work, "from-users")));
    });

    test("a log file (-L) in a folder of the user: refused", async () => {
        const dir = userFolder("restore-log");
        refused(await untouched(() => ourRestore(["-i", backup, "-o", path.join(work, "with-log"), "-L", path.join(dir, "restore.log")])), /is owned by user .*a log file's folder/);
    });

    test("restored images and configs are 0600, the folder it makes 0700 (0711 with a config for a VM)", async () => {
        const plain = path.join(work, "restored", "plain");
        await ourRestoreOk(["-i", backup, "-o", plain]);
        assert.equal(mode(plain), 0o700);
        assert.equal(mode(path.join(work, "restored")), 0o700);
        for (const f of fs.readdirSync(plain))
            assert.equal(mode(path.join(plain, f)), 0o600, f);
        const withConfig = path.join(work, "restored", "config");
        await ourRestoreOk(["-i", backup, "-o", withConfig, "-c"]);
        assert.equal(mode(withConfig), 0o711);
        const names = fs.readdirSync(withConfig);
        assert.ok(names.some(n => n.endsWith(".xml")), names.join(" "));
        for (const f of names)
            assert.equal(mode(path.join(withConfig, f)), 0o600, f);
    });

    test("the page's restore: a target the user can swap is refused at check and at start; the runner checks again itself", async () => {
        assert.equal((await helper("set-settings", "--domain", vm.name, "--folder", backup)).code, 0);
        const points = JSON.parse((await helper("list-restore-points", "--domain", vm.name)).stdout) as { points: { name: string; complete: boolean }[] };
        const point = points.points.find(p => p.complete)!.name;
        const parent = userFolder("page-target");
        const target = path.join(parent, "restore");
        const check = await helper("check-restore", "--domain", vm.name, "--point", point, "--target", target);
        assert.equal(check.code, 0, check.stderr);
        assert.match(JSON.parse(check.stdout).target.message, new RegExp(`${parent} is owned by user ${user.name}`));
        refused(await helper("start-restore", "--domain", vm.name, "--point", point, "--target", target), /is owned by user/);

        // A target that passed the check at start-restore time, then swapped before the runner runs: the
        // runner (started by hand here, as start-restore would) refuses it, and the job it belongs to ends failed.
        await user.runOk("ln", ["-s", victims, target]);
        const id = `${Date.now().toString(36)}-0badc0de`;
        fs.mkdirSync(JOBS_DIR, { recursive: true, mode: 0o700 });
        fs.writeFileSync(path.join(JOBS_DIR, `${uuid}.json`), JSON.stringify({ id, kind: "restore", state: "running", domain: vm.name, uuid, startedAt: Date.now(), updatedAt: Date.now(), runnerPid: null }));
        const r = await untouched(() => helper("run-restore-job", "--id", id, "--domain", vm.name, "--uuid", uuid, "--folder", backup, "--point", point, "--target", target));
        refused(r, /is owned by user/);
        const state = JSON.parse(fs.readFileSync(path.join(JOBS_DIR, `${uuid}.json`), "utf8")) as { state: string; message: string };
        assert.equal(state.state, "failed");
        assert.match(state.message, /is owned by user/);
    });
});

describe("the hidden runner commands and libvirt URIs", () => {
    test("run-job checks --folder, --uuid and --id like the page's requests", async () => {
        const id = `${Date.now().toString(36)}-12345678`;
        const base = ["run-job", "--domain", vm.name, "--level", "full"];
        const cases: [string[], RegExp][] = [
            [["--id", id, "--uuid", uuid, "--folder", userFolder("run-job")], /is owned by user/],
            [["--id", id, "--uuid", uuid, "--folder", "/etc/vnbt-attack"], /may not be \/etc/],
            [["--id", id, "--uuid", uuid, "--folder", "relative/x"], /absolute path/],
            [["--id", id, "--uuid", "00000000-0000-0000-0000-000000000000", "--folder", path.join(work, "run-job-ok")], /has UUID/],
            [["--id", "../../x", "--uuid", uuid, "--folder", path.join(work, "run-job-ok")], /invalid job id/],
        ];
        for (const [args, pattern] of cases) {
            const r = await untouched(() => helper(...base, ...args));
            refused(r, pattern);
        }
        assert.ok(!fs.existsSync("/etc/vnbt-attack"));
        assert.ok(!fs.existsSync(path.join(work, "run-job-ok")));
    });

    test("qemu+ext:// with command= (runs a command as root with virsh) is refused; the command never runs", async () => {
        const script = `/tmp/vnbt-${process.pid}-x`;
        const marker = `/tmp/vnbt-${process.pid}-ran`;
        await user.runOk("sh", ["-c", `printf '#!/bin/sh\\ntouch ${marker}\\n' > ${script} && chmod 755 ${script}`]);
        const uri = `qemu+ext:///system?command=${script}`;
        // The attack is real: virsh itself runs it.
        await run("virsh", ["-c", uri, "list"], { timeoutMs: 30_000 });
        assert.ok(fs.existsSync(marker), "virsh runs the command of an ext URI");
        fs.rmSync(marker);
        refused(await ourBackup(["-d", vm.name, "-l", "full", "-o", path.join(work, "uri"), "-U", uri]), /ext transport runs a command/);
        refused(await ourBackup(["-d", vm.name, "-k", "-U", uri]), /ext transport/);
        refused(await ourRestore(["-i", backup, "-o", path.join(work, "uri-restore"), "-D", "-U", uri]), /ext transport/);
        refused(await helper("list-vms", "--uri", uri), /only the local system connection/);
        refused(await ourBackup(["-d", vm.name, "-l", "full", "-o", path.join(work, "uri"), "-U", "qemu+unix:///system?socket=/tmp/vnbt-fake.sock"]), /parameter socket is not accepted/);
        assert.ok(!fs.existsSync(marker), "the command never ran");
        assert.ok(!fs.existsSync(path.join(work, "uri")) && !fs.existsSync(path.join(work, "uri-restore")));
        // The local connection still works both ways.
        await ourBackupOk(["-d", vm.name, "-l", "copy", "-o", path.join(work, "uri-ok"), "-U", "qemu+unix:///system"]);
        assert.equal((await helper("list-vms", "--uri", "qemu+unix:///system")).code, 0);
    });
});
