// SPDX-License-Identifier: GPL-3.0-or-later
// The Debian packaging files agree with the rest of the tree: the version, the name of the page's folder,
// the metainfo's launchable, the manifest's condition, and the maintainer scripts' syntax.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../..");
const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8");

test("debian/changelog's newest version is package.json's", () => {
    const newest = /^cockpit-virtnbdbackup \(([^)]+)\) /.exec(read("debian/changelog"));
    assert.ok(newest, "debian/changelog does not start with a cockpit-virtnbdbackup entry");
    assert.equal(newest[1], JSON.parse(read("package.json")).version);
});

test("the metainfo launches the page Cockpit serves as virtnbdbackup, whose manifest needs virsh", () => {
    const xml = read("org.cockpit_project.virtnbdbackup.metainfo.xml");
    assert.match(xml, /<launchable type="cockpit-manifest">virtnbdbackup<\/launchable>/);
    assert.match(read("Makefile"), /^PLUGINDIR = \$\(DESTDIR\)\$\(PREFIX\)\/share\/cockpit\/virtnbdbackup$/m);
    assert.deepEqual(JSON.parse(read("manifest.json")).conditions, [{ "path-exists": "/usr/bin/virsh" }]);
});

test("debian/control's package is the one debian/rules installs into, and the maintainer scripts parse", () => {
    assert.match(read("debian/control"), /^Package: cockpit-virtnbdbackup$/m);
    assert.match(read("debian/rules"), /debian\/cockpit-virtnbdbackup\/usr\/lib\/cockpit-virtnbdbackup\//);
    for (const script of ["postinst", "prerm", "postrm"]) {
        const check = spawnSync("sh", ["-n", path.join(root, "debian", script)], { encoding: "utf8" });
        assert.equal(check.status, 0, `${script}: ${check.stderr}`);
    }
});
