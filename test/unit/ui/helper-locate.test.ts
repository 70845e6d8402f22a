// SPDX-License-Identifier: GPL-3.0-or-later
// The program the UI passes to `node -e` finds the helper like Cockpit finds packages.
// Runs the real constant with the real node, against helper stand-ins in temporary data dirs.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { helperArgv } from "../../../src/helper-locate.ts";

let tmp: string;

/** A stand-in helper.js in <dir>/cockpit/virtnbdbackup/helper/ that reports where it runs and its argv. */
function fakeHelper(dir: string, tag: string) {
    const helperDir = path.join(dir, "cockpit/virtnbdbackup/helper");
    fs.mkdirSync(helperDir, { recursive: true });
    fs.writeFileSync(path.join(helperDir, "helper.js"),
                     `#!/usr/bin/env node\nconsole.log(JSON.stringify({ tag: ${JSON.stringify(tag)}, argv: process.argv.slice(1) }));\n`);
    return path.join(helperDir, "helper.js");
}

/** A stand-in helper.js in the installed layout, <prefix>/lib/cockpit-virtnbdbackup/ (data dir <prefix>/share). */
function fakeInstalledHelper(prefix: string, tag: string) {
    const helperDir = path.join(prefix, "lib/cockpit-virtnbdbackup");
    fs.mkdirSync(helperDir, { recursive: true });
    fs.writeFileSync(path.join(helperDir, "helper.js"),
                     `#!/usr/bin/env node\nconsole.log(JSON.stringify({ tag: ${JSON.stringify(tag)}, argv: process.argv.slice(1) }));\n`);
    return path.join(helperDir, "helper.js");
}

function run(args: string[], env: Record<string, string>) {
    const [cmd, ...rest] = helperArgv(args);
    return spawnSync(cmd, rest, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, encoding: "utf8" });
}

before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-locate-`)) });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

it("prefers XDG_DATA_HOME, then XDG_DATA_DIRS in order, and passes the arguments on", () => {
    const home = path.join(tmp, "home"), sys1 = path.join(tmp, "sys1"), sys2 = path.join(tmp, "sys2");
    fakeHelper(sys2, "sys2");
    const sys1Helper = fakeHelper(sys1, "sys1");
    let result = run(["list-vms", "--x", "a b"], { HOME: home, XDG_DATA_DIRS: `${sys1}:${sys2}` });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { tag: "sys1", argv: [sys1Helper, "list-vms", "--x", "a b"] });

    fakeHelper(path.join(home, ".local/share"), "home");
    result = run(["list-vms"], { HOME: home, XDG_DATA_DIRS: `${sys1}:${sys2}` });
    assert.equal(JSON.parse(result.stdout).tag, "home");

    const xdgHome = path.join(tmp, "xdg-home");
    fakeHelper(xdgHome, "xdg-home");
    result = run(["list-vms"], { HOME: home, XDG_DATA_HOME: xdgHome, XDG_DATA_DIRS: sys1 });
    assert.equal(JSON.parse(result.stdout).tag, "xdg-home");
});

it("finds the installed layout PREFIX/lib/cockpit-virtnbdbackup beside the data dir PREFIX/share, in data-dir order", () => {
    const home = path.join(tmp, "home-installed"), local = path.join(tmp, "local"), usr = path.join(tmp, "usr");
    const usrHelper = fakeInstalledHelper(usr, "usr");
    let result = run(["list-vms", "--y"], { HOME: home, XDG_DATA_DIRS: `${local}/share:${usr}/share` });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { tag: "usr", argv: [usrHelper, "list-vms", "--y"] });

    // A `make install` into the earlier prefix wins, as Cockpit then serves that prefix's plugin.
    fakeInstalledHelper(local, "local");
    result = run(["list-vms"], { HOME: home, XDG_DATA_DIRS: `${local}/share:${usr}/share` });
    assert.equal(JSON.parse(result.stdout).tag, "local");

    // Within one data dir the built tree (devel-install's link to dist/) comes first.
    fakeHelper(path.join(usr, "share"), "usr-tree");
    result = run(["list-vms"], { HOME: home, XDG_DATA_DIRS: `${usr}/share` });
    assert.equal(JSON.parse(result.stdout).tag, "usr-tree");
});

it("exits 127 with a message naming the searched folders when no helper is installed", () => {
    const empty = path.join(tmp, "empty");
    const result = run(["list-vms"], { HOME: empty, XDG_DATA_DIRS: `${empty}/a:relative/dir` });
    assert.equal(result.status, 127);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /helper is not installed: none of .*empty\/\.local\/share\/cockpit\/virtnbdbackup\/helper\/helper\.js, .*empty\/\.local\/lib\/cockpit-virtnbdbackup\/helper\.js, .*empty\/a\/cockpit\/virtnbdbackup\/helper\/helper\.js, .*empty\/lib\/cockpit-virtnbdbackup\/helper\.js\n$/);
});
