// SPDX-License-Identifier: GPL-3.0-or-later
// The UI's checks on what the helper prints, and the mapping of cockpit.spawn failures.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { HelperError, helperFailure, parseHostSettings, parseVmList } from "../../../src/helper-answer.ts";

const DEMO = {
    vms: [{
        name: "demo",
        uuid: "0a3cb6a4-9f0c-4a7e-8d0e-6b7f3c1e2d11",
        state: "running",
        persistent: true,
        disks: [{
            target: "vda", device: "disk", format: "qcow2", path: "/var/lib/libvirt/images/demo.qcow2",
            capacity: 2147483648, allocation: 1234567,
        }],
    }],
};

function unexpected(stdout: string, detail: RegExp) {
    assert.throws(() => parseVmList(stdout), (err: unknown) => {
        assert.ok(err instanceof HelperError);
        assert.equal(err.kind, "unexpected");
        assert.match(err.detail, detail);
        return true;
    });
}

describe("parseVmList", () => {
    it("accepts the documented answer and returns it unchanged", () => {
        assert.deepEqual(parseVmList(JSON.stringify(DEMO) + "\n"), DEMO);
    });

    it("accepts no VMs, nulls where libvirt may not know a value, and extra fields", () => {
        assert.deepEqual(parseVmList('{"vms":[]}'), { vms: [] });
        const vm = { ...DEMO.vms[0], extra: 1, disks: [{ target: "sda", device: "cdrom", format: null, path: null, capacity: null, allocation: null }] };
        assert.equal(parseVmList(JSON.stringify({ vms: [vm] })).vms[0].disks[0].device, "cdrom");
    });

    it("rejects output that is not JSON, or empty", () => {
        unexpected("Traceback: boom", /not JSON: Traceback: boom/);
        unexpected("", /no output/);
    });

    it("rejects JSON of another shape and names the bad field", () => {
        unexpected('{"error":"not implemented yet"}', /no "vms" list/);
        unexpected("[1,2]", /no "vms" list/);
        unexpected(JSON.stringify({ vms: [{ ...DEMO.vms[0], name: 7 }] }), /vms\[0\]\.name is not string/);
        unexpected(JSON.stringify({ vms: [{ ...DEMO.vms[0], persistent: "yes" }] }), /vms\[0\]\.persistent/);
        unexpected(JSON.stringify({ vms: [{ ...DEMO.vms[0], disks: {} }] }), /vms\[0\]\.disks is not a list/);
        const badDisk = { ...DEMO.vms[0].disks[0], capacity: "2G" };
        unexpected(JSON.stringify({ vms: [{ ...DEMO.vms[0], disks: [badDisk] }] }), /vms\[0\]\.disks\[0\]\.capacity/);
        unexpected(JSON.stringify({ vms: [null] }), /vms\[0\] is not an object/);
    });
});

describe("helperFailure", () => {
    // The objects below have the fields cockpit.js 287 puts on a spawn failure.
    const failure = (fields: object) => ({ problem: null, exit_status: null, exit_signal: null, message: "", ...fields });

    it("maps a refused superuser channel to not-admin", () => {
        assert.equal(helperFailure(failure({ problem: "access-denied", message: "Not permitted" })).kind, "not-admin");
    });

    it("maps a missing program to node-missing", () => {
        assert.equal(helperFailure(failure({ problem: "not-found" })).kind, "node-missing");
    });

    it("keeps the helper's stderr line on a non-zero exit", () => {
        const err = helperFailure(failure({ exit_status: 1, message: "Cannot connect to libvirt: no socket\n" }));
        assert.equal(err.kind, "failed");
        assert.equal(err.detail, "Cannot connect to libvirt: no socket");
        assert.equal(helperFailure(failure({ problem: null, exit_status: 1, message: "helper: there is no virtual machine named x\n" })).detail,
                     "there is no virtual machine named x", "the helper's name is not part of what the page shows");
    });

    it("says what happened when the helper printed nothing", () => {
        assert.equal(helperFailure(failure({ exit_status: 3 })).detail, "helper exited with code 3");
        assert.equal(helperFailure(failure({ exit_signal: 9 })).detail, "helper killed by signal 9");
        assert.equal(helperFailure(failure({ problem: "disconnected" })).detail, "disconnected");
    });

    it("passes HelperErrors through and wraps anything else", () => {
        const own = new HelperError("unexpected", "x");
        assert.equal(helperFailure(own), own);
        assert.equal(helperFailure("boom").kind, "unexpected");
    });
});

describe("parseHostSettings", () => {
    it("takes the queue size and whether it is the default; refuses anything else", () => {
        assert.deepEqual(parseHostSettings('{"maxBackupJobs":4,"isDefault":true}\n'), { maxBackupJobs: 4, isDefault: true });
        for (const bad of ['{"maxBackupJobs":"4","isDefault":true}', '{"maxBackupJobs":4}', "[]", "nonsense"])
            assert.throws(() => parseHostSettings(bad), HelperError, bad);
    });
});
