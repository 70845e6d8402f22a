// SPDX-License-Identifier: GPL-3.0-or-later
// The answers of start from backup's commands and of browse-restore as the page reads them
// (src/instant-answer.ts, src/browse-answer.ts), and how Move to storage's progress is read from libvirt.
import { it } from "node:test";
import assert from "node:assert/strict";
import { HelperError } from "../../../src/helper-answer.ts";
import { MoveOutput, parseInstantList, parseInstantStarted, type InstantMoveProgress } from "../../../src/instant-answer.ts";
import { parseHostRestore } from "../../../src/browse-answer.ts";
import { parseBlockJobRaw, parseDomBlkList } from "../../../helper/instant/instant-vm.ts";

const VM = { name: "restore_vm1", domain: "vm1", point: "virtnbdbackup.0", state: "running", startedAt: 1, disks: [{ dev: "vda", overlay: "/o/restore_vm1.vda.qcow2", size: 10 }] };

it("reads the started VM and the list, refusing what is not their shape", () => {
    assert.equal(parseInstantStarted(JSON.stringify({ event: "started", ...VM })).disks[0].overlay, "/o/restore_vm1.vda.qcow2");
    const list = parseInstantList(JSON.stringify({ vms: [{ ...VM, vmState: null, alive: false }, { ...VM, name: "b", vmState: "running", alive: true }] }));
    assert.deepEqual(list.vms.map(v => [v.name, v.vmState, v.alive]), [["restore_vm1", null, false], ["b", "running", true]]);
    assert.throws(() => parseInstantList(JSON.stringify({ vms: [{ ...VM, state: "great", vmState: null, alive: true }] })), HelperError);
    assert.throws(() => parseInstantList(JSON.stringify({ vms: [{ ...VM, vmState: null }] })), /alive/);
    assert.throws(() => parseInstantStarted(JSON.stringify({ ...VM, disks: [{ dev: "vda" }] })), /overlay/);
});

it("passes Move to storage's progress on line by line and returns the copies", () => {
    const seen: InstantMoveProgress[] = [];
    const out = new MoveOutput(p => seen.push(p));
    const line = (done: number) => JSON.stringify({ event: "progress", dev: "vda", index: 0, count: 1, done, total: 100 }) + "\n";
    out.push(line(0) + line(40).slice(0, 9));
    out.push(line(40).slice(9) + line(100));
    out.push(JSON.stringify({ event: "moved", name: "restore_vm1", disks: ["/s/restore_vm1.vda.moved.qcow2"] }));
    assert.deepEqual(seen.map(p => p.done), [0, 40, 100]);
    assert.deepEqual(out.finish().disks, ["/s/restore_vm1.vda.moved.qcow2"]);
    assert.throws(() => new MoveOutput(() => {}).push(JSON.stringify({ event: "progress", index: 0, count: 1, done: 0, total: 1 }) + "\n"), /dev/);
    assert.throws(() => new MoveOutput(() => {}).finish(), HelperError);
});

it("reads what browse-restore wrote", () => {
    const r = parseHostRestore(JSON.stringify({ target: "/root/restored/docs", files: 2, folders: 1, bytes: 300, skipped: ["/docs/link"] }));
    assert.deepEqual([r.target, r.files, r.skipped], ["/root/restored/docs", 2, ["/docs/link"]]);
    assert.throws(() => parseHostRestore(JSON.stringify({ target: "/x", files: 1, folders: 0, bytes: 1 })), /skipped/);
});

it("reads a block job's bytes from virsh blockjob --raw, and no job as none", () => {
    assert.deepEqual(parseBlockJobRaw(" type=Block Copy\n bandwidth=0\n cur=1048576\n end=100663296\n"), { done: 1048576, total: 100663296 });
    assert.equal(parseBlockJobRaw("No current block job for vda\n"), null);
    assert.equal(parseBlockJobRaw(""), null);
});

it("reads each disk's file from virsh domblklist, a disk without one (an empty CD-ROM) left out", () => {
    const out = " Target   Source\n--------------------------------------------------\n vda      /srv/my vms/a.vda.moved.qcow2\n sda      -\n\n";
    assert.deepEqual([...parseDomBlkList(out)], [["vda", "/srv/my vms/a.vda.moved.qcow2"]]);
    assert.equal(parseDomBlkList("").size, 0);
});
