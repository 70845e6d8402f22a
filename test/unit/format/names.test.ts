// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import {
    checkpointListFileName, checkpointXmlPath, checksumFileName, dataFileName, logFileName, parseDataFileName,
    partialFileName, qcowInfoFileName, vmConfigFileName,
} from "../../../helper/format/index.ts";

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
