// SPDX-License-Identifier: GPL-3.0-or-later
// The trust rule on real folders (as root: owners and modes are set with chown/chmod), creating missing
// folders 0700, and the file rules of safe-open: never through a planted name.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createFresh, openAppend, writeFileAtomic, writeNewFile } from "../../../helper/fs/safe-open.ts";
import { prepareTrustedFolder, resolveTrustedFolder, UntrustedFolderError } from "../../../helper/fs/trusted-folder.ts";
import { localUriProblem, uriProblem } from "../../../helper/libvirt/uri.ts";

const OTHER_UID = 54321;
let tmp: string;

before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-trust-`));
});
after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
});

function dir(name: string, mode = 0o755, uid?: number): string {
    const d = path.join(tmp, name);
    fs.mkdirSync(d, { recursive: true });
    fs.chmodSync(d, mode);
    if (uid !== undefined)
        fs.chownSync(d, uid, 0);
    return d;
}

function refusal(folder: string): string {
    try {
        resolveTrustedFolder(folder, "a backup folder");
    } catch (err) {
        assert.ok(err instanceof UntrustedFolderError, String(err));
        return err.message;
    }
    return "";
}

describe("the trust rule", { skip: process.geteuid?.() !== 0 && "needs root (chown)" }, () => {
    test("accepts root's folders below a sticky /tmp, and missing folders below them", () => {
        const ok = dir("ok", 0o700);
        assert.equal(refusal(ok), "");
        assert.deepEqual(resolveTrustedFolder(path.join(ok, "a", "b"), "a backup folder"),
            { folder: path.join(ok, "a", "b"), missing: [path.join(ok, "a"), path.join(ok, "a", "b")] });
    });

    test("refuses a folder, or one above it, writable by a group or by everyone, naming it", () => {
        const g = dir("group", 0o775);
        assert.equal(refusal(path.join(g, "x")), `${g} is writable by group root: a backup folder and every folder above it must be writable only by root`);
        const w = dir("world", 0o777);
        assert.match(refusal(w), new RegExp(`^${w} is writable by every user: `));
    });

    test("refuses a folder owned by another user, and one below it", () => {
        const u = dir("user", 0o755, OTHER_UID);
        assert.match(refusal(u), new RegExp(`^${u} is owned by user ${OTHER_UID}: `));
        const below = dir("user/inner", 0o700, 0);
        assert.match(refusal(below), new RegExp(`^${u} is owned by user`));
    });

    test("a sticky world-writable folder is fine above, never as the folder itself", () => {
        const s = dir("sticky", 0o1777);
        assert.match(refusal(s), /is writable by every user/);
        const mine = dir("sticky/mine", 0o700);
        assert.equal(refusal(mine), "");
        const theirs = dir("sticky/theirs", 0o700, OTHER_UID);
        assert.match(refusal(theirs), /is owned by user/);
    });

    test("a symlink is resolved once: the real path is what is checked and used", () => {
        const u = dir("linked-user", 0o755, OTHER_UID);
        const link = path.join(dir("links", 0o755), "to-user");
        fs.symlinkSync(u, link);
        assert.match(refusal(link), new RegExp(`^${u} is owned by user`));
        const ok = dir("linked-ok", 0o700);
        const good = path.join(tmp, "links", "to-ok");
        fs.symlinkSync(ok, good);
        assert.equal(resolveTrustedFolder(path.join(good, "new"), "a backup folder").folder, path.join(ok, "new"));
    });

    test("a symlink swapped in by a user leads nowhere, even to root's own folders", () => {
        const u = dir("swap-user", 0o755, OTHER_UID);
        const rootOnly = dir("root-only", 0o700);
        fs.symlinkSync(rootOnly, path.join(u, "backup"));
        assert.match(refusal(path.join(u, "backup")), new RegExp(`^${u} is owned by user`));
        const s = dir("swap-sticky", 0o1777);
        fs.symlinkSync(rootOnly, path.join(s, "backup"));
        fs.lchownSync(path.join(s, "backup"), OTHER_UID, OTHER_UID);
        assert.match(refusal(path.join(s, "backup")), new RegExp(`^${s}/backup is a symbolic link owned by user ${OTHER_UID}`));
    });

    test("root's symlink that loops or leads nowhere is refused by name, not followed", () => {
        const links = dir("dead-links", 0o755);
        fs.symlinkSync(path.join(links, "loop"), path.join(links, "loop"));
        assert.match(refusal(path.join(links, "loop", "x")), new RegExp(`^${links}/loop is a symbolic link that loops: `));
        fs.symlinkSync(path.join(tmp, "missing", "target"), path.join(links, "dangling"));
        assert.throws(() => resolveTrustedFolder(path.join(links, "dangling"), "a backup folder"),
            (e: unknown) => e instanceof UntrustedFolderError && /dangling is a symbolic link to .*missing\/target, which does not exist/.test(e.message));
    });

    test("a file on the way is not a folder", () => {
        fs.writeFileSync(path.join(tmp, "file"), "x");
        assert.throws(() => resolveTrustedFolder(path.join(tmp, "file", "x"), "a backup folder"), (e: unknown) => e instanceof UntrustedFolderError && e.kind === "not-a-folder");
    });

    test("missing folders are made 0700, one by one; the topmost one made is returned", () => {
        const base = dir("make", 0o755);
        const old = process.umask(0);
        try {
            const made = prepareTrustedFolder(path.join(base, "a", "b"), "a backup folder");
            assert.deepEqual(made, { folder: path.join(base, "a", "b"), made: path.join(base, "a") });
            for (const d of ["a", "a/b"])
                assert.equal(fs.statSync(path.join(base, d)).mode & 0o7777, 0o700, d);
            assert.deepEqual(prepareTrustedFolder(path.join(base, "a", "b"), "a backup folder"), { folder: path.join(base, "a", "b"), made: undefined });
        } finally {
            process.umask(old);
        }
    });
});

describe("creating files", () => {
    test("a planted symlink under a temporary or partial name is refused, never written through", () => {
        const d = fs.mkdtempSync(path.join(tmp, "files-"));
        const victim = path.join(d, "victim");
        fs.writeFileSync(victim, "keep");
        const file = path.join(d, "list.json");
        fs.symlinkSync(victim, `${file}.tmp-${process.pid}`);
        assert.throws(() => writeFileAtomic(file, "new"), /is a symbolic link: refusing to write through it/);
        fs.symlinkSync(victim, path.join(d, "vda.full.data.partial"));
        assert.throws(() => createFresh(path.join(d, "vda.full.data.partial")), /symbolic link/);
        assert.throws(() => openAppend(path.join(d, "vda.full.data.partial")), /symbolic link/);
        assert.equal(fs.readFileSync(victim, "utf8"), "keep");
        assert.ok(!fs.existsSync(file));
    });

    test("a stale file of ours is replaced; new files are 0600; writeNewFile never replaces", async () => {
        const d = fs.mkdtempSync(path.join(tmp, "files-"));
        const file = path.join(d, "x");
        fs.writeFileSync(`${file}.tmp-${process.pid}`, "stale");
        writeFileAtomic(file, "new");
        assert.equal(fs.readFileSync(file, "utf8"), "new");
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        assert.deepEqual(fs.readdirSync(d), ["x"]);
        await assert.rejects(writeNewFile(file, "other"), /already exists/);
        assert.equal(fs.readFileSync(file, "utf8"), "new");
    });
});

describe("libvirt URIs", () => {
    test("the CLIs take local and remote URIs, but no command, socket, file or embedded driver", () => {
        for (const ok of ["qemu:///system", "qemu+unix:///system", "qemu:///session", "qemu+ssh://root@host/system", "qemu+unix:///system?mode=direct", "test:///default"])
            assert.equal(uriProblem(ok), null, ok);
        for (const bad of ["qemu+ext:///system?command=/tmp/x", "QEMU+EXT:///system", "qemu+unix:///system?socket=/tmp/s",
            "qemu+unix:///system?SOCKET=/tmp/s", "qemu+unix:///system?%73ocket=/tmp/s", "qemu+unix:///system?mode=direct;socket=/tmp/s",
            "qemu+ssh://h/system?netcat=/tmp/x", "qemu+ssh://h/system?keyfile=/tmp/k", "qemu:///embed?root=/tmp/r", "not a uri", "qemu:///system\n"])
            assert.notEqual(uriProblem(bad), null, bad);
    });

    test("the page's helper takes only the local system connection", () => {
        assert.equal(localUriProblem("qemu:///system"), null);
        assert.equal(localUriProblem("qemu+unix:///system"), null);
        for (const bad of ["qemu:///session", "qemu+ssh://h/system", "qemu+unix:///system?socket=/x"])
            assert.match(localUriProblem(bad)!, /only the local system connection/);
    });
});
