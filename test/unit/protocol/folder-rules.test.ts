// SPDX-License-Identifier: GPL-3.0-or-later
// The backup folder rules the helper (as root) and the settings dialog apply.
import { it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkChosenFolder, checkFolder, folderWarnings } from "../../../helper/protocol/folder-rules.ts";
import { folderFacts } from "../../../helper/jobs/folder-facts.ts";
import { parseSettings, validateChosenFolder, validateFolder } from "../../../helper/jobs/settings.ts";
import { validateSettingsForm } from "../../../src/app/backup-forms.ts";
import { DEFAULT_SCHEDULE } from "../../../helper/protocol/schedule-rules.ts";

it("accepts absolute folders outside system folders, normalising slashes", () => {
    assert.deepEqual(checkFolder("/var/lib/libvirt/backups/vm1"), { folder: "/var/lib/libvirt/backups/vm1" });
    assert.deepEqual(checkFolder("/srv//backups/vm1/"), { folder: "/srv/backups/vm1" });
    assert.deepEqual(checkFolder("/library/x"), { problem: "system-folder", forbidden: "/library" });
    assert.deepEqual(checkFolder("/usrdata/x"), { folder: "/usrdata/x" }, "only /usr itself and inside it");
    assert.deepEqual(checkFolder("/mnt/my backups/vm"), { folder: "/mnt/my backups/vm" });
});

it("refuses relative paths, dot segments, control characters, / and system folders", () => {
    const problem = (p: string) => { const r = checkFolder(p); return "problem" in r ? r.problem : null };
    assert.equal(problem(""), "empty");
    assert.equal(problem("   "), "empty");
    assert.equal(problem("backups/vm"), "relative");
    assert.equal(problem("./backups"), "relative");
    assert.equal(problem("/srv/../etc"), "dot-segments");
    assert.equal(problem("/srv/./x"), "dot-segments");
    assert.equal(problem("/srv/a\nb"), "control-characters");
    assert.equal(problem("/srv/a\u0000b"), "control-characters");
    assert.equal(problem("/"), "root");
    assert.equal(problem("//"), "root");
    assert.equal(problem("/" + "a".repeat(5000)), "too-long");
    for (const dir of ["/etc", "/proc", "/sys", "/dev", "/boot", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/libx32", "/lib32"]) {
        assert.equal(problem(dir), "system-folder", dir);
        assert.equal(problem(`${dir}/backups`), "system-folder", `${dir}/backups`);
    }
});

it("refuses a folder name longer than NAME_MAX (255 bytes), counting UTF-8 bytes", () => {
    assert.deepEqual(checkFolder("/srv/" + "a".repeat(255)), { folder: "/srv/" + "a".repeat(255) });
    assert.deepEqual(checkFolder("/srv/" + "a".repeat(256) + "/vm"), { problem: "name-too-long" });
    assert.deepEqual(checkFolder("/srv/" + "ä".repeat(128)), { problem: "name-too-long" }, "256 bytes in 128 characters");
});

it("a folder chosen now may not be one the whole system shares; inside it is fine", () => {
    for (const dir of ["/var", "/tmp", "/var/tmp", "/home", "/srv", "/var/lib/libvirt/images", "/var/lib/libvirt/backups"]) {
        assert.deepEqual(checkChosenFolder(dir + "/"), { problem: "shared-folder", forbidden: dir }, dir);
        assert.deepEqual(checkFolder(dir), { folder: dir }, `${dir} stored earlier still reads`);
    }
    assert.deepEqual(checkChosenFolder("/var/lib/libvirt/backups/vm1"), { folder: "/var/lib/libvirt/backups/vm1" });
    assert.deepEqual(checkChosenFolder("/etc"), { problem: "system-folder", forbidden: "/etc" });
    assert.deepEqual(folderWarnings("/tmp/vm1"), ["temporary"]);
    assert.deepEqual(folderWarnings("/var/tmp/b/vm1"), ["temporary"]);
    assert.deepEqual(folderWarnings("/tmpdata/vm1"), []);
});

it("the settings form applies the chosen-folder rules only to a folder other than the stored one", () => {
    assert.deepEqual(validateSettingsForm({ folder: "/srv", compress: false, schedule: DEFAULT_SCHEDULE }), { folder: { problem: "shared-folder", forbidden: "/srv" } });
    assert.deepEqual(validateSettingsForm({ folder: "/srv", compress: false, schedule: DEFAULT_SCHEDULE }, "/srv"), {});
});

it("folder facts: things that are not backups, and the VM's disk images inside", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-facts-`));
    try {
        const disk = path.join(tmp, "images", "vm1.qcow2");
        fs.mkdirSync(path.dirname(disk));
        fs.writeFileSync(disk, "");
        assert.deepEqual(folderFacts(path.join(tmp, "none"), [disk]), { exists: false, foreignEntries: 0, diskImages: [] });
        assert.deepEqual(folderFacts(tmp, [disk, "/elsewhere/vm1.qcow2"]), { exists: true, foreignEntries: 1, diskImages: [disk] });
        const b = path.join(tmp, "b");
        fs.mkdirSync(path.join(b, "checkpoints"), { recursive: true });
        fs.mkdirSync(path.join(b, "chain-2"));
        for (const f of ["vda.full.data", "vda.full.data.chksum", "vda.inc.virtnbdbackup.1.data", "vm1.cpt", "vmconfig.virtnbdbackup.0.xml", "notes.txt"])
            fs.writeFileSync(path.join(b, f), "");
        assert.deepEqual(folderFacts(b, [disk]), { exists: true, foreignEntries: 1, diskImages: [] }, "only notes.txt is foreign");
        assert.throws(() => validateChosenFolder(path.join(tmp, "images"), [disk]), /holds this virtual machine's disk image .*vm1\.qcow2/);
        assert.throws(() => validateChosenFolder(tmp, [disk]), /disk image/);
        assert.equal(validateChosenFolder(b, [disk]), b);
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
});

it("the settings form reports the same problems as the helper", () => {
    assert.deepEqual(validateSettingsForm({ folder: "/srv/vm", compress: false, schedule: DEFAULT_SCHEDULE }), {});
    assert.deepEqual(validateSettingsForm({ folder: "/etc/vm", compress: true, schedule: DEFAULT_SCHEDULE }), { folder: { problem: "system-folder", forbidden: "/etc" } });
    assert.deepEqual(validateSettingsForm({ folder: "vm", compress: true, schedule: DEFAULT_SCHEDULE }), { folder: { problem: "relative", forbidden: undefined } });
});

it("the helper also refuses a folder whose existing part is a symlink into a system folder", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-folder-`));
    try {
        fs.symlinkSync("/etc", path.join(tmp, "link"));
        assert.throws(() => validateFolder(path.join(tmp, "link", "backups")), /\/etc/);
        assert.equal(validateFolder(path.join(tmp, "ok", "vm") + "/"), path.join(tmp, "ok", "vm"));
        fs.writeFileSync(path.join(tmp, "file"), "");
        assert.throws(() => validateFolder(path.join(tmp, "file")), /not a folder/);
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
});

it("stored settings are checked field by field", () => {
    // Settings stored before schedules existed have none: off.
    assert.deepEqual(parseSettings({ folder: "/srv/b/", compress: true }, "f"), { folder: "/srv/b", compress: true, schedule: DEFAULT_SCHEDULE, keepChains: null, keepPoints: null, keepDaily: null, keepWeekly: null, keepMonthly: null, newChain: "never" });
    assert.equal(parseSettings({ folder: "/srv/b", compress: true, keepPoints: 14 }, "f").keepPoints, 14);
    assert.throws(() => parseSettings({ folder: "/srv/b", compress: true, keepPoints: 0 }, "f"), /f: keepPoints: at least the newest restore point is kept/);
    const weekly = { frequency: "weekly", weekday: 6, time: "7:30" };
    assert.deepEqual(parseSettings({ folder: "/srv/b", compress: false, schedule: weekly }, "f").schedule, { frequency: "weekly", weekday: 6, time: "07:30" });
    assert.throws(() => parseSettings({ folder: "/srv/b", compress: true, schedule: { ...weekly, frequency: "hourly" } }, "f"), /off, daily, weekly/);
    assert.throws(() => parseSettings({ folder: "/srv/b", compress: true, schedule: { ...weekly, weekday: 7 } }, "f"), /weekday/);
    assert.throws(() => parseSettings({ folder: "/srv/b", compress: true, schedule: { ...weekly, time: "24:00" } }, "f"), /HH:MM/);
    assert.throws(() => parseSettings({ folder: "/srv/b", compress: true, schedule: "daily" }, "f"), /off, daily, weekly/);
    assert.throws(() => parseSettings({ folder: "/srv/b", compress: "yes" }, "f"), /compress/);
    assert.throws(() => parseSettings({ folder: 3, compress: true }, "f"), /folder/);
    assert.throws(() => parseSettings({ folder: "/proc/x", compress: true }, "f"), /\/proc/);
    assert.throws(() => parseSettings([], "f"), /object/);
});
