// SPDX-License-Identifier: GPL-3.0-or-later
// The package's maintainer scripts (debian/prerm, postrm, postinst) against a temporary root (DPKG_ROOT, as
// dpkg --root runs them): remove takes the schedules (cron file, timer and service units and their
// timers.target links) and keeps the settings; purge takes the settings and state too; neither touches
// anything else; an upgrade takes nothing; purge takes /run/virtnbdbackup only when nothing lives there. Under a real systemd: test/realstack/systemd-timer.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../..");
const UUID = "0f6e1f4c-5c1a-4d57-9d34-7c6c1d2b8a11";
const SCHEDULES = ["etc/cron.d/cockpit-virtnbdbackup", `etc/systemd/system/cockpit-virtnbdbackup-${UUID}.timer`,
    `etc/systemd/system/cockpit-virtnbdbackup-${UUID}.service`];
const SETTINGS = [`etc/cockpit-virtnbdbackup/vms/${UUID}.json`, "var/lib/cockpit-virtnbdbackup/checkpoints/y.json",
    `var/lib/cockpit-virtnbdbackup/history/${UUID}/1.json`];
const OTHERS = ["etc/cron.d/other", "etc/systemd/system/other.timer", "etc/systemd/system/timers.target.wants/other.timer", "var/lib/other/z"];
const WANTS = `etc/systemd/system/timers.target.wants/cockpit-virtnbdbackup-${UUID}.timer`;

function fakeRoot(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-dpkg-root-"));
    for (const f of [...SCHEDULES, ...SETTINGS, ...OTHERS]) {
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.writeFileSync(path.join(dir, f), "x");
    }
    fs.symlinkSync(`../cockpit-virtnbdbackup-${UUID}.timer`, path.join(dir, WANTS));
    return dir;
}

function script(name: string, arg: string, dpkgRoot: string): void {
    const r = spawnSync("sh", [path.join(root, "debian", name), arg], { encoding: "utf8", env: { PATH: process.env.PATH, DPKG_ROOT: dpkgRoot } });
    assert.equal(r.status, 0, `${name} ${arg}: ${r.stderr}`);
    assert.equal(r.stderr, "", `${name} ${arg}`);
}

const exists = (dir: string, f: string) => fs.existsSync(path.join(dir, f)) || fs.lstatSync(path.join(dir, f), { throwIfNoEntry: false }) !== undefined;

test("remove takes the schedules and keeps the settings; purge then takes the settings and state; nothing else goes", () => {
    const dir = fakeRoot();
    try {
        script("prerm", "remove", dir);
        script("postrm", "remove", dir);
        for (const f of [...SCHEDULES, WANTS])
            assert.equal(exists(dir, f), false, `remove left ${f}: a schedule would start the removed helper`);
        for (const f of [...SETTINGS, ...OTHERS])
            assert.ok(exists(dir, f), `remove took ${f}`);
        script("postrm", "purge", dir);
        for (const d of ["etc/cockpit-virtnbdbackup", "var/lib/cockpit-virtnbdbackup"])
            assert.equal(exists(dir, d), false, `purge left ${d}`);
        for (const f of OTHERS)
            assert.ok(exists(dir, f), `purge took ${f}`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("purge straight from installed takes everything of ours; an upgrade, and postinst under dpkg --root, take nothing", () => {
    const dir = fakeRoot();
    try {
        for (const [name, arg] of [["prerm", "upgrade"], ["postrm", "upgrade"], ["postinst", "configure"], ["prerm", "deconfigure"], ["postrm", "failed-upgrade"]]) {
            script(name, arg, dir);
            for (const f of [...SCHEDULES, WANTS, ...SETTINGS, ...OTHERS])
                assert.ok(exists(dir, f), `${name} ${arg} took ${f}`);
        }
        script("postrm", "purge", dir);
        for (const f of [...SCHEDULES, WANTS, ...SETTINGS])
            assert.equal(exists(dir, f), false, `purge left ${f}`);
        for (const f of OTHERS)
            assert.ok(exists(dir, f), `purge took ${f}`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("purge takes /run/virtnbdbackup when only locks and empty folders are left, and leaves it while a mapping lives there", () => {
    for (const live of [false, true]) {
        const dir = fakeRoot();
        try {
            const run = path.join(dir, "run/virtnbdbackup");
            for (const sub of ["locks", "slots", "maps", "browse", "instant", "jobs"])
                fs.mkdirSync(path.join(run, sub), { recursive: true });
            fs.writeFileSync(path.join(run, "locks", `${UUID}.lock`), "");
            if (live)
                fs.writeFileSync(path.join(run, "instant", "restore_vm.json"), "{}");
            script("postrm", "purge", dir);
            assert.equal(exists(dir, "run/virtnbdbackup"), live, live ? "a started VM's record was pulled away" : "purge left /run/virtnbdbackup");
            if (live)
                assert.ok(exists(dir, `run/virtnbdbackup/locks/${UUID}.lock`));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }
});
