// SPDX-License-Identifier: GPL-3.0-or-later
// Guest paths resolved inside a mounted guest file system: guest symlinks are followed as the guest would,
// with the mount as "/", so none leads out of it to a host file.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { listGuestFolder, openGuestFile, parseGuestPath, resolveGuestPath } from "../../../helper/browse/guest-path.ts";

let root: string;

before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "guest-path-"));
    fs.mkdirSync(path.join(root, "etc"));
    fs.writeFileSync(path.join(root, "etc/shadow"), "guest shadow\n");
    fs.mkdirSync(path.join(root, "srv/files"), { recursive: true });
    fs.writeFileSync(path.join(root, "srv/files/a.txt"), "a\n");
    fs.symlinkSync("/etc/shadow", path.join(root, "srv/files/abs"));
    fs.symlinkSync("../../../../../../../etc/shadow", path.join(root, "srv/files/rel"));
    fs.symlinkSync("/", path.join(root, "srv/files/top"));
    fs.symlinkSync("loop2", path.join(root, "srv/files/loop1"));
    fs.symlinkSync("loop1", path.join(root, "srv/files/loop2"));
    fs.symlinkSync("/srv", path.join(root, "srv-link"));
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

it("accepts absolute, normalized guest paths only", () => {
    assert.equal(parseGuestPath("/"), "/");
    assert.equal(parseGuestPath("/etc/hosts"), "/etc/hosts");
    for (const bad of ["", "etc", "/etc/", "//etc", "/etc/../x", "/./etc", "/a\0b"])
        assert.throws(() => parseGuestPath(bad), Error, JSON.stringify(bad));
});

it("an absolute guest symlink starts again at the mount's root, never at the host's", () => {
    const r = resolveGuestPath(root, "/srv/files/abs", true);
    assert.equal(r.guest, "/etc/shadow");
    assert.equal(r.host, path.join(root, "etc/shadow"));
    const fd = openGuestFile(r);
    try {
        assert.equal(fs.readFileSync(fd, "utf8"), "guest shadow\n");
    } finally {
        fs.closeSync(fd);
    }
});

it("'..' in a guest symlink stops at the mount's root", () => {
    assert.equal(resolveGuestPath(root, "/srv/files/rel", true).host, path.join(root, "etc/shadow"));
    assert.equal(resolveGuestPath(root, "/srv/files/top/etc", true).host, path.join(root, "etc"));
});

it("symlinks in the middle are followed inside; the last only when asked", () => {
    assert.equal(resolveGuestPath(root, "/srv-link/files/a.txt", true).guest, "/srv/files/a.txt");
    const link = resolveGuestPath(root, "/srv/files/abs", false);
    assert.ok(link.stat.isSymbolicLink());
    assert.throws(() => openGuestFile(link), /not a regular file/);
});

it("a symlink loop and a missing name are clear errors", () => {
    assert.throws(() => resolveGuestPath(root, "/srv/files/loop1", true), /too many symbolic links/);
    assert.throws(() => resolveGuestPath(root, "/srv/nothing", true), /\/srv\/nothing does not exist/);
    assert.throws(() => resolveGuestPath(root, "/srv/files/a.txt/x", true), /is not a folder/);
});

it("a listing shows links with their targets, followed nowhere", () => {
    const entries = listGuestFolder(resolveGuestPath(root, "/srv/files", true));
    assert.deepEqual(entries.map(e => [e.name, e.type]), [
        ["a.txt", "file"], ["abs", "symlink"], ["loop1", "symlink"], ["loop2", "symlink"], ["rel", "symlink"], ["top", "symlink"],
    ]);
    assert.equal(entries.find(e => e.name === "abs")?.target, "/etc/shadow");
});
