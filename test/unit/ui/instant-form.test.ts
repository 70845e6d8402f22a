// SPDX-License-Identifier: GPL-3.0-or-later
// The start-from-backup, move and restore-to-host dialogs' checks (src/app/instant-form.ts) and the helper's
// string rules they share (helper/protocol/instant-rules.ts).
import { it } from "node:test";
import assert from "node:assert/strict";
import { initialInstantForm, validateHostFolder, validateInstantFolder, validateInstantForm } from "../../../src/app/instant-form.ts";
import { defaultInstantName } from "../../../helper/protocol/instant-rules.ts";

const CTX = { backupFolder: "/srv/backup/vm1", vmNames: ["vm1", "restore_vm1", "other"] };

it("proposes a free restore_<vm> name and libvirt's image folder, which pass the checks", () => {
    assert.deepEqual(initialInstantForm("vm1", CTX.vmNames), { name: "restore_vm1_2", folder: "/var/lib/libvirt/images" });
    assert.deepEqual(validateInstantForm(initialInstantForm("vm1", CTX.vmNames), CTX), {});
    assert.equal(defaultInstantName("web", []), "restore_web");
    assert.equal(defaultInstantName("web", ["restore_web", "restore_web_2"]), "restore_web_3");
    // Characters the name rule refuses become _, runs of dots one dot, and it stays within 64.
    assert.equal(defaultInstantName("my vm/ä..x", []), "restore_my_vm__.x");
    const long = defaultInstantName("x".repeat(200), []);
    assert.ok(long.length <= 60);
    assert.deepEqual(validateInstantForm({ name: defaultInstantName("x".repeat(200), []) + "_99", folder: "/srv/o" }, CTX), {});
});

it("refuses names the helper refuses, and names of VMs the page knows", () => {
    const name = (n: string) => validateInstantForm({ name: n, folder: "/srv/overlays" }, CTX).name?.code;
    assert.equal(name(""), "empty");
    assert.equal(name("x".repeat(65)), "too-long");
    for (const bad of ["-x", ".hidden", "a b", "a/b", "a..b", "ä"])
        assert.equal(name(bad), "bad-characters", bad);
    assert.equal(name("other"), "exists");
    assert.equal(name("web_2.now"), undefined);
});

it("keeps overlays and moved disks out of the backup folder, but allows shared and non-empty folders", () => {
    const code = (f: string) => validateInstantFolder(f, CTX.backupFolder)?.code;
    assert.equal(code("/var/lib/libvirt/images"), undefined);
    assert.equal(code("/srv/backup/vm1"), "inside-backup-folder");
    assert.equal(code("/srv/backup/vm1/overlays"), "inside-backup-folder");
    assert.equal(code("/srv"), "holds-backup-folder");
    assert.equal(code("relative"), "relative");
    assert.equal(code("/etc/x"), "system-folder");
    assert.equal(validateInstantForm({ name: "n", folder: "" }, CTX).folder?.code, "empty");
});

it("takes any host folder the folder rules accept for a restore to the host", () => {
    assert.equal(validateHostFolder("/root/restored"), undefined);
    assert.equal(validateHostFolder("/srv/backup/vm1"), undefined);
    assert.equal(validateHostFolder("/")?.code, "root");
    assert.deepEqual(validateHostFolder("/usr/share/x"), { code: "system-folder", forbidden: "/usr" });
    assert.equal(validateHostFolder("root/x")?.code, "relative");
});
