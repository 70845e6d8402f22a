// SPDX-License-Identifier: GPL-3.0-or-later
// The answers of virsh commands that a batch (one virsh run, several commands) must tell from no answer at all:
// a command of a batch that fails prints nothing on stdout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseBlockNodes } from "../../../helper/backup/bitmaps.ts";
import { parseCheckpointList } from "../../../helper/backup/checkpoints.ts";
import { parseJobInfo } from "../../../helper/backup/pull-job.ts";

test("domjobinfo: the running job's operation, none, or no answer", () => {
    assert.equal(parseJobInfo("Job type:         None        \n\n"), undefined);
    assert.equal(parseJobInfo("Job type:         Unbounded   \nOperation:        Backup      \nTime elapsed:     12 ms\n"), "Backup");
    assert.equal(parseJobInfo("Job type:         Unbounded   \n"), "Unbounded");
    assert.equal(parseJobInfo(""), null);
    assert.equal(parseJobInfo("error: failed to get domain 'x'\n"), null);
});

test("QEMU's block node list, or undefined for anything else", () => {
    const nodes = [{ "node-name": "libvirt-1-format", drv: "qcow2", file: "/v/a.qcow2", "dirty-bitmaps": [{ name: "virtnbdbackup.0", recording: true }] }];
    assert.deepEqual(parseBlockNodes(JSON.stringify({ return: nodes, id: "libvirt-42" })), nodes);
    assert.equal(parseBlockNodes(""), undefined);
    assert.equal(parseBlockNodes("{\"error\":{\"class\":\"GenericError\"}}"), undefined);
    assert.equal(parseBlockNodes("not json"), undefined);
});

test("checkpoint-list --name: names in order, blank lines dropped", () => {
    assert.deepEqual(parseCheckpointList("virtnbdbackup.0\nvirtnbdbackup.1\n\n"), ["virtnbdbackup.0", "virtnbdbackup.1"]);
    assert.deepEqual(parseCheckpointList("\n"), []);
});
