// SPDX-License-Identifier: GPL-3.0-or-later
// The restore dialog's checks (src/app/restore-form.ts) and the helper's string rules they share
// (helper/protocol/restore-rules.ts).
import { it } from "node:test";
import assert from "node:assert/strict";
import { errorsFromCheck, initialRestoreForm, validateRestoreForm, type RestoreForm } from "../../../src/app/restore-form.ts";
import { checkRestoreTarget, checkVmName } from "../../../helper/protocol/restore-rules.ts";

const CTX = { backupFolder: "/srv/backup/vm1", vmNames: ["vm1", "other"], points: ["virtnbdbackup.0", "virtnbdbackup.1"] };
const GOOD: RestoreForm = { point: "virtnbdbackup.1", target: "/srv/restore/vm1", define: true, name: "restore_vm1" };

it("starts with the row's point, a folder of its own and a new VM named restore_<vm>", () => {
    assert.deepEqual(initialRestoreForm("vm1", "virtnbdbackup.0"),
                     { point: "virtnbdbackup.0", target: "/var/lib/libvirt/images/restore_vm1", define: true, name: "restore_vm1" });
    assert.deepEqual(validateRestoreForm(initialRestoreForm("vm1", "virtnbdbackup.0"), CTX), {});
});

it("accepts a good request", () => {
    assert.deepEqual(validateRestoreForm(GOOD, CTX), {});
    assert.deepEqual(validateRestoreForm({ ...GOOD, target: "/srv/restore/vm1///" }, CTX), {});
});

it("refuses targets the helper would refuse, naming the rule", () => {
    const code = (target: string) => validateRestoreForm({ ...GOOD, target }, CTX).target?.code;
    assert.equal(code(""), "empty");
    assert.equal(code("restore"), "relative");
    assert.equal(code("/srv/../etc"), "dot-segments");
    assert.equal(code("/"), "root");
    assert.equal(code("/etc/restore"), "system-folder");
    assert.equal(validateRestoreForm({ ...GOOD, target: "/usr/x" }, CTX).target?.forbidden, "/usr");
    assert.equal(code("/srv/backup/vm1"), "inside-backup-folder");
    assert.equal(code("/srv/backup/vm1/restore"), "inside-backup-folder");
    assert.equal(code("/srv/backup"), "holds-backup-folder");
    // A sibling whose name starts like the backup folder is not inside it.
    assert.equal(code("/srv/backup/vm10"), undefined);
});

it("checks the new VM's name only when one is defined", () => {
    const name = (n: string, define = true) => validateRestoreForm({ ...GOOD, name: n, define }, CTX).name?.code;
    assert.equal(name(""), "empty");
    assert.equal(name("  "), "empty");
    assert.equal(name("a/b"), "bad-characters");
    assert.equal(name(" x"), "bad-characters");
    assert.equal(name("x\n"), "bad-characters");
    assert.equal(name("-x"), "leading-dash");
    assert.equal(name("x".repeat(201)), "too-long");
    assert.equal(name("other"), "exists");
    assert.equal(name("vm1"), "exists");
    assert.equal(name("vm1", false), undefined);
    assert.equal(name("", false), undefined);
});

it("refuses a point that is not one of the complete restore points", () => {
    assert.equal(validateRestoreForm({ ...GOOD, point: "virtnbdbackup.7" }, CTX).point, "unknown-point");
});

it("turns the helper's refusals into field errors, keeping its sentence", () => {
    assert.deepEqual(errorsFromCheck({}), {});
    assert.deepEqual(errorsFromCheck({ resolvedTarget: "/srv/x" }), {});
    const errors = errorsFromCheck({
        target: { code: "not-empty", message: "/srv/x is not empty" },
        name: { code: "exists", message: "a virtual machine named x already exists" },
        point: { code: "unknown-point", message: "no" },
    });
    assert.deepEqual(errors, {
        target: { code: "not-empty", message: "/srv/x is not empty" },
        name: { code: "exists", message: "a virtual machine named x already exists" },
        point: "unknown-point",
    });
    // A code this page does not know still blocks the field, with the helper's words.
    assert.equal(errorsFromCheck({ target: { code: "new-rule", message: "m" } }).target?.message, "m");
});

it("shares the helper's pure rules", () => {
    assert.deepEqual(checkRestoreTarget("/a//b/", "/srv/b"), { target: "/a/b" });
    assert.equal(checkVmName("ok_name-1.x"), null);
});
