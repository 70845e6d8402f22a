// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import {
    bootFileName, checkpointIndex, checkpointListFileName, checkpointName, checkpointXmlPath, checksumFileName, dataFileName, isBootFileNameFor,
    isCheckpointName, isLogFileName, logFileName, parseCheckpointListFileName, parseDataFileName, parseQcowInfoFileName, parseVmConfigFileName,
    partialFileName, qcowInfoFileName, vmConfigFileName, withoutPartialSuffix,
} from "../../../helper/format/index.ts";
import * as contract from "../../../helper/protocol/point-names.ts";

test("data file names per level", () => {
    assert.equal(dataFileName("vda", "full"), "vda.full.data");
    assert.equal(dataFileName("vda", "copy"), "vda.copy.data");
    assert.equal(dataFileName("vda", "inc", "virtnbdbackup.3"), "vda.inc.virtnbdbackup.3.data");
    assert.equal(dataFileName("sdb", "diff", 1700000000), "sdb.diff.1700000000.data");
    assert.throws(() => dataFileName("vda", "inc"), /needs an ident/);
    assert.throws(() => dataFileName("v.da", "full"), /invalid dev/);
    assert.throws(() => dataFileName("vda", "inc", "a/b"), /invalid ident/);
});

test("companion files", () => {
    assert.equal(partialFileName("vda.full.data"), "vda.full.data.partial");
    assert.equal(checksumFileName("vda.full.data"), "vda.full.data.chksum");
    assert.equal(vmConfigFileName("virtnbdbackup.0"), "vmconfig.virtnbdbackup.0.xml");
    assert.equal(vmConfigFileName("copy"), "vmconfig.copy.xml");
    assert.equal(qcowInfoFileName("vda", "virtnbdbackup.2"), "vda.virtnbdbackup.2.qcow.json");
    assert.equal(checkpointListFileName("webvm"), "webvm.cpt");
    assert.equal(checkpointXmlPath("virtnbdbackup.1"), "checkpoints/virtnbdbackup.1.xml");
    // local time, month day year hour minute second, as strftime("%m%d%Y%H%M%S")
    assert.equal(logFileName("inc", new Date(2024, 2, 4, 5, 6, 7)), "backup.inc.03042024050607.log");
});

test("parses data file names back", () => {
    assert.deepEqual(parseDataFileName("vda.full.data"), { dev: "vda", level: "full", ident: null });
    assert.deepEqual(parseDataFileName("vda.copy.data"), { dev: "vda", level: "copy", ident: "copy" });
    assert.deepEqual(parseDataFileName("vda.inc.virtnbdbackup.3.data"), { dev: "vda", level: "inc", ident: "virtnbdbackup.3" });
    assert.deepEqual(parseDataFileName("sdb.diff.1700000000.data"), { dev: "sdb", level: "diff", ident: "1700000000" });
    for (const name of ["vda.full.data.partial", "vda.full.data.chksum", "vda.virtnbdbackup.0.qcow.json", "vda.inc.data", "vmconfig.virtnbdbackup.0.xml", "vda.weekly.data", ".full.data"]) {
        assert.equal(parseDataFileName(name), null, name);
    }
});

test("checkpoint names: one definition, shared with the page", () => {
    assert.equal(checkpointName(4), "virtnbdbackup.4");
    assert.equal(checkpointIndex("virtnbdbackup.12"), 12);
    for (const name of ["virtnbdbackup.", "virtnbdbackup.1a", "virtnbdbackup.-1", "xvirtnbdbackup.1", "1700000000", "copy", "virtnbdbackup.1.xml"]) {
        assert.equal(checkpointIndex(name), undefined, name);
        assert.equal(isCheckpointName(name), false, name);
    }
    assert.ok(isCheckpointName("virtnbdbackup.0"));
    // format/ re-exports the page's contract, it does not copy it
    assert.equal(checkpointIndex, contract.checkpointIndex);
    assert.equal(isCheckpointName, contract.isCheckpointName);
});

test("parses companion file names back", () => {
    for (const ident of ["virtnbdbackup.0", "copy", "1700000000"]) {
        assert.equal(parseVmConfigFileName(vmConfigFileName(ident)), ident);
        assert.deepEqual(parseQcowInfoFileName(qcowInfoFileName("vdb", ident)), { dev: "vdb", ident });
        assert.ok(isBootFileNameFor(bootFileName("/var/lib/libvirt/qemu/nvram/VM_VARS.fd", ident), ident));
    }
    assert.equal(parseVmConfigFileName("vmconfig.xml"), null);
    assert.equal(parseVmConfigFileName("vda.full.data"), null);
    assert.equal(parseQcowInfoFileName(".virtnbdbackup.0.qcow.json"), null);
    assert.equal(parseQcowInfoFileName("vda.qcow.json"), null);
    assert.equal(parseCheckpointListFileName(checkpointListFileName("web.vm")), "web.vm");
    assert.equal(parseCheckpointListFileName(".cpt"), null);
    assert.ok(isLogFileName(logFileName("full", new Date(2024, 0, 2, 3, 4, 5))));
    assert.equal(isLogFileName("notes.log"), false);
    assert.equal(isBootFileNameFor(".virtnbdbackup.0", "virtnbdbackup.0"), false);
    assert.equal(isBootFileNameFor("VM_VARS.fd.virtnbdbackup.1", "virtnbdbackup.0"), false);
    assert.equal(withoutPartialSuffix(partialFileName("vda.full.data")), "vda.full.data");
    assert.equal(withoutPartialSuffix("vda.full.data"), "vda.full.data");
});
