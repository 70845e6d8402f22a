// SPDX-License-Identifier: GPL-3.0-or-later
// The real Debian guest (test/lib/guest-image.ts): booted under TCG to its serial marker, backed up while it
// runs with its file systems frozen and thawed through the QEMU guest agent, a file changed in the guest
// between a full and an inc; each restore point restored and browsed (helper browse-*) over a real NBD
// server: the files as they were at that point, guest symlinks that never reach host files, downloads,
// restores to a host folder, and nothing left mounted, attached or running after close, idle end or kill.
// Runs alone: it boots the Debian guest under TCG (CPU-bound) and checks that no browse keeper runs on the host.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { ensureLibvirtd } from "../lib/libvirtd.ts";
import { GuestVm } from "../lib/guest-vm.ts";
import { GUEST_FILES, GUEST_RANDOM_FILE, GUEST_SHADOW_MARKER, guestImage, type GuestImage } from "../lib/guest-image.ts";
import { ourRestoreOk } from "../lib/backup-cli.ts";
import { backUp, backUpGuestChain, contentAt, guestVolumePath, messages, type BackupEvent } from "../lib/guest-chain.ts";
import { run, runOk } from "../lib/exec.ts";
import { removePluginState } from "../lib/plugin-state.ts";
import { TestVm } from "../lib/vm.ts";
import { browseLeftovers, helper, helperBytes, helperJson, HELPER, serveImage, type NbdServer, type OpenedSession } from "../lib/guest-browse.ts";
import { processAlive } from "../../helper/tools/proc.ts";

const HELLO = "/srv/files/hello.txt";
const README = "/data/readme.txt";
const CHANGED_HELLO = contentAt(1, HELLO);
const CHANGED_README = contentAt(1, README);

let stopLibvirtd: () => Promise<void>;
let image: GuestImage;
let guest: GuestVm;
let work: string;
let backupDir: string;
/** Restored images of each point: point -> dev -> qcow2. */
const restored = new Map<string, Map<string, string>>();
const servers: NbdServer[] = [];

before(async () => {
    stopLibvirtd = await ensureLibvirtd();
    const started = Date.now();
    image = await guestImage();
    console.log(`# guest image: ${image.buildSeconds ? `built in ${image.buildSeconds} s` : `from the cache (${Date.now() - started} ms)`}`);
    guest = await GuestVm.create();
    const bootMs = await guest.waitReady();
    console.log(`# guest boot to its marker: ${(bootMs / 1000).toFixed(1)} s (TCG, direct kernel boot)`);
    await guest.waitAgent();
    work = fs.mkdtempSync(path.join("/var/tmp", `vnbt-${process.pid}-guest-`));
    backupDir = path.join(work, "backup");
});

after(async () => {
    for (const s of servers)
        await s.stop();
    await GuestVm.cleanupAll();
    await TestVm.cleanupAll();
    if (work)
        fs.rmSync(work, { recursive: true, force: true });
    await stopLibvirtd?.();
});

/** Our backup with --json: its events. */
function backup(level: string, vmName = guest.name, dir = backupDir): Promise<BackupEvent[]> {
    return backUp(vmName, level, dir);
}

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** Checks that a run of the guest's backup froze, then thawed its file systems through the agent. */
async function assertFrozenAndThawed(events: BackupEvent[]): Promise<void> {
    const infos = messages(events, "info");
    assert.ok(infos.some(m => /^froze 2 guest filesystem\(s\) through the QEMU guest agent$/.test(m)), infos.join("\n"));
    assert.ok(infos.includes("thawed the guest filesystems"), infos.join("\n"));
    assert.deepEqual(messages(events, "warning").filter(m => /crash-consistent|thaw/.test(m)), []);
    assert.equal(await guest.fsfreezeStatus(), "thawed");
    // The guest still writes: a frozen file system would block this.
    await guest.execOk("/bin/sh", ["-c", "echo still-writable > /var/tmp/probe && sync"]);
}

test("the guest boots to its marker; the agent answers and sees the known files", async () => {
    assert.equal(await guest.fsfreezeStatus(), "thawed");
    assert.equal(await guest.execOk("/bin/cat", [HELLO]), GUEST_FILES[HELLO]);
    assert.equal(await guest.execOk("/bin/cat", [README]), GUEST_FILES[README]);
    const mounts = await guest.execOk("/bin/findmnt", ["-rn", "-o", "TARGET,FSTYPE", "--real"]);
    assert.match(mounts, /^\/ ext4$/m);
    assert.match(mounts, /^\/data xfs$/m);
});

test("a full and an inc of the running guest freeze and thaw its file systems through the agent", async () => {
    // GUEST_CHANGES are written in the guest between the two points.
    const { full, inc } = await backUpGuestChain(guest, backupDir);
    await assertFrozenAndThawed(full);
    await assertFrozenAndThawed(inc);
    const agentLog = await guest.execOk("/bin/journalctl", ["-b", "-t", "qemu-ga", "-o", "cat", "--no-pager"]);
    assert.equal(agentLog.match(/guest-fsfreeze called/g)?.length, 2, agentLog);
});

test("each point restores with the files as they were at that point", async () => {
    for (const [point, until] of [["full", "virtnbdbackup.0"], ["inc", "virtnbdbackup.1"]] as const) {
        const out = path.join(work, `restored-${point}`);
        await ourRestoreOk(["-i", backupDir, "-o", out, "--until", until]);
        restored.set(point, new Map(guest.disks.map(d => [d.dev, path.join(out, path.basename(d.path))])));
        for (const file of restored.get(point)!.values())
            assert.ok(fs.existsSync(file), `${file} restored`);
    }
});

/** Opens a browse session on a restored disk served by a real NBD server. */
async function openPoint(point: string, dev: string, extra: string[] = []): Promise<OpenedSession> {
    const server = await serveImage(restored.get(point)!.get(dev)!, "qcow2", work);
    servers.push(server);
    return helperJson<OpenedSession>(["browse-open", "--socket", server.socket, ...extra]);
}

async function readFile(session: string, volume: string, p: string): Promise<Buffer> {
    const r = await helperBytes(["browse-read", "--session", session, "--volume", volume, "--path", p]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
}

test("browsing the full and the inc shows a changed file's old and new content; the rest is the same", async () => {
    const opened: OpenedSession[] = [];
    try {
        for (const [index, point] of (["full", "inc"] as const).entries()) {
            const started = Date.now();
            const root = await openPoint(point, "vda");
            console.log(`# browse-open of the ${point}'s root disk (qemu-nbd, FUSE, loop, mount): ${Date.now() - started} ms`);
            const data = await openPoint(point, "vdb");
            opened.push(root, data);
            assert.deepEqual(root.volumes.map(v => [v.id, v.type, v.mounted]), [["p1", "ext4", true]]);
            assert.deepEqual(data.volumes.map(v => [v.id, v.type, v.label, v.mounted]), [["disk", "xfs", "vnbt-data", true]]);
            const sessions = { vda: root.session, vdb: data.session };
            // Every known file, changed or not, as it was at this point.
            for (const guestPath of Object.keys(GUEST_FILES)) {
                const where = guestVolumePath(guestPath);
                const got = await readFile(sessions[where.dev], where.volume, where.path);
                assert.equal(got.toString(), contentAt(index as 0 | 1, guestPath), `${guestPath} at the ${point}`);
            }
            assert.equal(sha256(await readFile(root.session, "p1", GUEST_RANDOM_FILE)), image.randomSha256);
        }
        assert.notEqual(CHANGED_HELLO, GUEST_FILES[HELLO]);
        // Two sessions of the same point at once (the same xfs UUID mounted twice) do not collide.
        const again = await openPoint("inc", "vdb");
        opened.push(again);
        assert.equal((await readFile(again.session, "disk", "/readme.txt")).toString(), CHANGED_README);
        assert.equal((await readFile(opened[3]!.session, "disk", "/readme.txt")).toString(), CHANGED_README);
    } finally {
        for (const s of opened)
            await helperJson(["browse-close", "--session", s.session]);
    }
    assert.deepEqual(await browseLeftovers(), { mounts: [], loops: [], daemons: [], sessions: [], keepers: [] });
});

test("browse-point maps a point of the VM's folder for its session: the full's and the inc's content; close ends both", async () => {
    const uuid = (await runOk("virsh", ["-c", "qemu:///system", "domuuid", "--domain", guest.name])).stdout.trim();
    await runOk(process.execPath, [HELPER, "set-settings", "--domain", guest.name, "--folder", backupDir, "--schedule", "off"]);
    try {
        const bad = await helper(["browse-point", "--domain", guest.name, "--point", "virtnbdbackup.7"]);
        assert.equal(bad.stderr, `helper: virtnbdbackup.7 is not a complete restore point of ${guest.name}\n`);
        const noDisk = await helper(["browse-point", "--domain", guest.name, "--point", "virtnbdbackup.0", "--disk", "vdz"]);
        assert.equal(noDisk.stderr, `helper: restore point virtnbdbackup.0 of ${guest.name} has no disk vdz\n`);
        for (const [index, point] of (["virtnbdbackup.0", "virtnbdbackup.1"] as const).entries()) {
            for (const dev of ["vda", "vdb"] as const) {
                const started = Date.now();
                const opened = await helperJson<OpenedSession & { dev: string; socket: string }>(
                    ["browse-point", "--domain", guest.name, "--point", point, ...(dev === "vdb" ? ["--disk", dev] : [])]);
                console.log(`# browse-point ${point} ${dev} (map, FUSE, loop, mount): ${Date.now() - started} ms`);
                assert.equal(opened.dev, dev);
                const known = Object.keys(GUEST_FILES).filter(p => guestVolumePath(p).dev === dev);
                for (const guestPath of known) {
                    const where = guestVolumePath(guestPath);
                    assert.equal((await readFile(opened.session, where.volume, where.path)).toString(), contentAt(index as 0 | 1, guestPath), `${guestPath} at ${point}`);
                }
                const nbdkit = (await run("pgrep", ["-f", `nbdkit.*${opened.socket}`])).stdout.trim();
                assert.notEqual(nbdkit, "", "the mapping serves while the session is open");
                await helperJson(["browse-close", "--session", opened.session]);
                assert.ok(!fs.existsSync(path.dirname(opened.socket)), "the mapping's folder is gone after close");
                assert.equal((await run("pgrep", ["-f", `nbdkit.*${opened.socket}`])).stdout.trim(), "", "no nbdkit after close");
            }
        }
    } finally {
        removePluginState([uuid]);
    }
    const left = await browseLeftovers();
    assert.deepEqual(left, { mounts: [], loops: [], daemons: [], sessions: [], keepers: [] });
    assert.deepEqual((await run("pgrep", ["-a", "-f", `${HELPER} browse-point-keep`])).stdout, "");
});

test("guest symlinks never lead to host files; listings show them unfollowed", async () => {
    const root = await openPoint("inc", "vda");
    const data = await openPoint("inc", "vdb");
    try {
        const hostShadow = fs.readFileSync("/etc/shadow", "utf8");
        assert.ok(!hostShadow.includes(GUEST_SHADOW_MARKER));
        for (const link of ["/srv/files/shadow-link", "/srv/files/escape-link"]) {
            const got = (await readFile(root.session, "p1", link)).toString();
            assert.ok(got.includes(GUEST_SHADOW_MARKER), `${link} reads the guest's own /etc/shadow`);
            assert.notEqual(got, hostShadow);
        }
        // On the data disk there is no /etc: the link to /etc/shadow leads nowhere, not to the host's.
        const none = await helper(["browse-read", "--session", data.session, "--volume", "disk", "--path", "/shadow-link"]);
        assert.equal(none.code, 1);
        assert.equal(none.stdout, "");
        assert.match(none.stderr, /^helper: \/etc does not exist\n$/);
        // A link to "/" lists the data disk's own root.
        const top = await helperJson<{ path: string; entries: { name: string }[] }>(["browse-list", "--session", data.session, "--volume", "disk", "--path", "/host-root"]);
        assert.equal(top.path, "/");
        assert.deepEqual(top.entries.map(e => e.name), ["host-root", "readme.txt", "shadow-link", "sub"]);
        const files = await helperJson<{ entries: { name: string; type: string; size: number; mtime: number; target?: string }[] }>(
            ["browse-list", "--session", root.session, "--volume", "p1", "--path", "/srv/files"]);
        const byName = new Map(files.entries.map(e => [e.name, e]));
        assert.deepEqual(byName.get("shadow-link"), { ...byName.get("shadow-link"), type: "symlink", target: "/etc/shadow" });
        assert.equal(byName.get("hello.txt")?.type, "file");
        assert.equal(byName.get("hello.txt")?.size, CHANGED_HELLO.length);
        assert.equal(byName.get("nested")?.type, "folder");
        assert.ok(Math.abs(byName.get("hello.txt")!.mtime - Date.now() / 1000) < 3600, "mtime in seconds, recent");
        // Bad paths change nothing and say why in one line.
        for (const bad of ["../etc", "/srv/../etc", "srv"]) {
            const r = await helper(["browse-list", "--session", root.session, "--volume", "p1", "--path", bad]);
            assert.equal(r.code, 1, bad);
            assert.match(r.stderr, /^helper: --path: .*\n$/);
        }
    } finally {
        await helperJson(["browse-close", "--session", root.session]);
        await helperJson(["browse-close", "--session", data.session]);
    }
});

test("a folder downloads as tar and restores into a host folder: the exact bytes, links left out", async () => {
    const root = await openPoint("full", "vda");
    try {
        const tar = await helperBytes(["browse-tar", "--session", root.session, "--volume", "p1", "--path", "/srv/files"]);
        assert.equal(tar.code, 0, tar.stderr);
        const tarFile = path.join(work, "files.tar");
        fs.writeFileSync(tarFile, tar.stdout);
        const listing = (await runOk("tar", ["-tvf", tarFile])).stdout;
        assert.match(listing, /files\/shadow-link -> \/etc\/shadow/);
        assert.equal((await runOk("tar", ["-xOf", tarFile, "files/hello.txt"])).stdout, GUEST_FILES[HELLO]);

        const target = path.join(work, "host-restore", "here");
        const result = await helperJson<{ target: string; files: number; skipped: string[] }>(
            ["browse-restore", "--session", root.session, "--volume", "p1", "--path", "/srv/files", "--to", target]);
        assert.equal(result.target, path.join(target, "files"));
        assert.deepEqual(result.skipped.sort(), ["/srv/files/escape-link", "/srv/files/shadow-link"]);
        assert.equal(fs.readFileSync(path.join(target, "files/hello.txt"), "utf8"), GUEST_FILES[HELLO]);
        assert.equal(sha256(fs.readFileSync(path.join(target, "files/random.bin"))), image.randomSha256);
        assert.equal(fs.statSync(path.join(target, "files/hello.txt")).mode & 0o777, 0o600);
        assert.equal(fs.statSync(path.join(target, "files/nested")).mode & 0o777, 0o700);
        assert.ok(!fs.existsSync(path.join(target, "files/shadow-link")));
        // Again into the same folder: refused, nothing replaced.
        const again = await helper(["browse-restore", "--session", root.session, "--volume", "p1", "--path", HELLO, "--to", path.join(target, "files")]);
        assert.equal(again.code, 1);
        assert.match(again.stderr, /already exists; nothing was restored/);
        // An untrusted host folder (writable by others) is refused.
        const open = path.join(work, "world-writable");
        fs.mkdirSync(open, { mode: 0o777 });
        fs.chmodSync(open, 0o777);
        const refused = await helper(["browse-restore", "--session", root.session, "--volume", "p1", "--path", HELLO, "--to", open]);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /writable by every user/);
        assert.deepEqual(fs.readdirSync(open), []);
    } finally {
        await helperJson(["browse-close", "--session", root.session]);
    }
});

test("an idle session ends by itself; a killed keeper's session is cleaned up by the next helper start", async () => {
    const idle = await openPoint("full", "vdb", ["--idle-seconds", "5"]);
    assert.equal(idle.volumes[0]?.mounted, true);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await browseLeftovers()).sessions.length > 0)
        await new Promise(resolve => setTimeout(resolve, 500));
    assert.deepEqual(await browseLeftovers(), { mounts: [], loops: [], daemons: [], sessions: [], keepers: [] });
    const gone = await helper(["browse-list", "--session", idle.session, "--volume", "disk", "--path", "/"]);
    assert.match(gone.stderr, /no browse session .* \(closed, or ended after being idle\)/);

    const killed = await openPoint("full", "vda");
    const state = JSON.parse(fs.readFileSync(`/run/virtnbdbackup/browse/${killed.session}/state.json`, "utf8")) as { keeper: { pid: number } };
    process.kill(state.keeper.pid, "SIGKILL");
    for (let i = 0; i < 50 && processAlive(state.keeper.pid); i++)
        await new Promise(resolve => setTimeout(resolve, 100));
    assert.equal((await browseLeftovers()).mounts.length, 2, "the FUSE disk and the ext4 mount stay until a helper runs");
    const other = await helper(["browse-close", "--session", "0123456789abcdef"]);
    assert.match(other.stderr, /no browse session 0123456789abcdef/);
    // Any browse command sweeps first; the failed close above already did.
    assert.deepEqual(await browseLeftovers(), { mounts: [], loops: [], daemons: [], sessions: [], keepers: [] });
});

test("a helper killed while it opens a session leaves nothing once the next helper runs", async () => {
    // An NBD server that accepts and never answers: the open stops while its daemon connects, before it has
    // a pid file, so the kill lands at a known step.
    const socket = path.join(work, "silent.sock");
    const silent = net.createServer(() => {});
    await new Promise<void>(resolve => silent.listen(socket, resolve));
    try {
        const opener = spawn(process.execPath, [HELPER, "browse-open", "--socket", socket], { stdio: "ignore" });
        const closed = new Promise(resolve => opener.on("close", resolve));
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline && (await browseLeftovers()).daemons.length === 0)
            await new Promise(resolve => setTimeout(resolve, 100));
        opener.kill("SIGKILL");
        await closed;
        const left = await browseLeftovers();
        assert.ok(left.daemons.length >= 1, JSON.stringify(left));  // --daemonize: a parent waits for its child
        assert.equal(left.sessions.length, 1, JSON.stringify(left));
        await helper(["browse-close", "--session", "0123456789abcdef"]);
        assert.deepEqual(await browseLeftovers(), { mounts: [], loops: [], daemons: [], sessions: [], keepers: [] });
    } finally {
        silent.close();
    }
});

test("a VM without a guest agent is backed up crash-consistent, and so is the guest once its agent is gone", async () => {
    const bare = await TestVm.create({ disks: [{ size: "32M", writes: [{ offset: 0, length: "4M", random: true }] }] });
    const bareEvents = await backup("full", bare.name, path.join(work, "bare"));
    assert.ok(messages(bareEvents, "warning").some(m => /has no QEMU guest agent channel: filesystems are not frozen, the backup is crash-consistent/.test(m)));
    await ourRestoreOk(["-i", path.join(work, "bare"), "-o", path.join(work, "bare-restored")]);
    const cmp = await bare.compare(0, path.join(work, "bare-restored", path.basename(bare.disks[0]!.path)));
    assert.ok(cmp.identical, cmp.output);
    await bare.cleanup();

    // The channel is there but nothing answers on it.
    await guest.agent("guest-exec", { path: "/bin/systemctl", arg: ["stop", "qemu-guest-agent.service"] });
    // guest-exec answers at once; the agent goes a moment later (a backup before that would still freeze).
    let gone = false;
    for (let i = 0; i < 60 && !gone; i++) {
        try {
            await guest.agent("guest-ping", undefined, 2);
            await new Promise(resolve => setTimeout(resolve, 500));
        } catch {
            gone = true;
        }
    }
    assert.ok(gone, "the guest agent stopped answering");
    const started = Date.now();
    const events = await backup("inc");
    assert.ok(messages(events, "warning").some(m => /guest filesystems not frozen \(is the guest agent running\?\): the backup is crash-consistent/.test(m)),
        messages(events, "warning").join("\n"));
    assert.ok(!messages(events, "info").some(m => /^froze/.test(m)));
    assert.ok(Date.now() - started < 60_000, "no long wait for an agent that is gone");
});
