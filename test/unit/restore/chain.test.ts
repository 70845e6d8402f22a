// SPDX-License-Identifier: GPL-3.0-or-later
// Chain selection over file names and meta frames: order, restore points, diffs, gaps, foreign files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ChainError, checkOwners, compareFiles, selectChain, type BackupFile } from "../../../helper/restore/chain.ts";
import { diff, full, inc, meta } from "./backup-files.ts";

const cpt = (n: number) => Array.from({ length: n + 1 }, (_, i) => `virtnbdbackup.${i}`);
const names = (files: BackupFile[]) => files.map(f => f.name);

// Made in time order: full, inc1, diff(parent 1) x2, inc2, diff(parent 2).
const F = full();
const I1 = inc(1);
const D1a = diff(1, 1001);
const D1b = diff(1, 1002);
const I2 = inc(2);
const D2 = diff(2, 1003);
const all = [D2, I2, F, D1b, I1, D1a];

test("files are ordered by checkpoint index, diffs before the inc of the index they name", () => {
    assert.deepEqual(names([...all].sort(compareFiles)), names([F, I1, D1a, D1b, I2, D2]));
});

test("the newest point uses the last diff on top of every inc, skipping superseded diffs", () => {
    const chain = selectChain("vda", all, cpt(2));
    assert.deepEqual(names(chain.members), names([F, I1, I2, D2]));
    assert.deepEqual(chain.skipped.map(s => s.name), names([D1a, D1b]));
});

test("--until a checkpoint stops at the full/inc that made it", () => {
    assert.deepEqual(names(selectChain("vda", all, cpt(2), { until: "virtnbdbackup.0" }).members), names([F]));
    assert.deepEqual(names(selectChain("vda", all, cpt(2), { until: "virtnbdbackup.1" }).members), names([F, I1]));
    assert.deepEqual(names(selectChain("vda", all, cpt(2), { until: "virtnbdbackup.2" }).members), names([F, I1, I2]));
});

test("--until a diff file or its ident restores that diff on its parent", () => {
    assert.deepEqual(names(selectChain("vda", all, cpt(2), { until: D1a.name }).members), names([F, I1, D1a]));
    assert.deepEqual(names(selectChain("vda", all, cpt(2), { until: "1002" }).members), names([F, I1, D1b]));
    // another disk's file name selects the same point
    assert.deepEqual(names(selectChain("vda", all, cpt(2), { until: "vdb.diff.1001.data" }).members), names([F, I1, D1a]));
    assert.deepEqual(names(selectChain("vda", all, cpt(2), { until: "vdb.inc.virtnbdbackup.1.data" }).members), names([F, I1]));
});

test("--until a checkpoint only diffs name is refused with the diff files to pick from", () => {
    assert.throws(() => selectChain("vda", all, cpt(2), { until: "virtnbdbackup.3" }), (e: Error) =>
        e instanceof ChainError && e.message.includes(D2.name));
    assert.throws(() => selectChain("vda", all, cpt(2), { until: "virtnbdbackup.9" }), /matches --until/);
});

test("a missing inc in the middle is a gap naming the file after it", () => {
    assert.throws(() => selectChain("vda", [F, I1, inc(3)], cpt(3)), (e: Error) =>
        e instanceof ChainError && e.file === "vda.inc.virtnbdbackup.3.data" && /chain gap/.test(e.message));
});

test("a missing newest inc is found through the checkpoint list", () => {
    assert.throws(() => selectChain("vda", [F, I1], cpt(2)), (e: Error) =>
        e instanceof ChainError && /vda\.inc\.virtnbdbackup\.2\.data/.test(e.message));
    // ...but a restore point before it is fine
    assert.deepEqual(names(selectChain("vda", [F, I1], cpt(2), { until: "virtnbdbackup.1" }).members), names([F, I1]));
});

test("a file whose checkpoint the list does not know is refused as foreign", () => {
    assert.throws(() => selectChain("vda", [F, I1, inc(2)], cpt(1)), (e: Error) =>
        e instanceof ChainError && e.file === "vda.inc.virtnbdbackup.2.data" && /another backup or VM/.test(e.message));
});

test("an inc older than the file it builds on is refused", () => {
    const early = inc(2);
    const late = inc(1);
    assert.throws(() => selectChain("vda", [F, late, early], cpt(2)), /another chain or VM/);
});

test("name and meta frame must agree", () => {
    const wrongDisk = { ...inc(1), meta: { ...inc(1).meta, diskName: "vdb" } };
    assert.throws(() => selectChain("vda", [F, wrongDisk], cpt(1)), /holds disk "vdb"/);
    const renamed = { ...inc(2), name: "vda.inc.virtnbdbackup.1.data", ident: "virtnbdbackup.1" };
    assert.throws(() => selectChain("vda", [F, renamed], cpt(2)), /meta frame names virtnbdbackup\.2/);
    assert.throws(() => selectChain("vda", [F, inc(1, "vda", { virtualSize: 2 << 20 })], cpt(1)), /disk size/);
});

test("no full is refused", () => {
    assert.throws(() => selectChain("vda", [I1], cpt(1)), /no full or copy backup/);
});

test("a later full restarts the chain", () => {
    // Our engine's fallback full continues the numbering: vda.full.virtnbdbackup.2.data
    const again: BackupFile = { name: "vda.full.virtnbdbackup.2.data", dev: "vda", level: "full", ident: "virtnbdbackup.2", meta: meta({ checkpointName: "virtnbdbackup.2" }) };
    const after = inc(3);
    const chain = selectChain("vda", [F, I1, again, after], cpt(3));
    assert.deepEqual(names(chain.members), [again.name, after.name]);
    assert.deepEqual(names(selectChain("vda", [F, I1, again, after], cpt(3), { until: "virtnbdbackup.2" }).members), [again.name]);
    assert.deepEqual(names(selectChain("vda", [F, I1, again, after], cpt(3), { until: "vdb.full.virtnbdbackup.2.data" }).members), [again.name]);
    // as a sequence, the later full goes on top of the earlier files
    assert.deepEqual(names(selectChain("vda", [F, I1, again, after], cpt(3), { sequence: [F.name, I1.name, again.name, after.name] }).members),
                     [F.name, I1.name, again.name, after.name]);
    assert.deepEqual(names(selectChain("vda", [F, I1, again, after], cpt(3), { until: "virtnbdbackup.1" }).members), names([F, I1]));
});

test("a sequence is taken as given but still checked for gaps", () => {
    assert.deepEqual(names(selectChain("vda", all, cpt(2), { sequence: [F.name, I1.name, D1a.name] }).members), names([F, I1, D1a]));
    assert.throws(() => selectChain("vda", all, cpt(2), { sequence: [F.name, I2.name] }), /chain gap/);
    assert.throws(() => selectChain("vda", all, cpt(2), { sequence: [I1.name] }), /must start with a full/);
    assert.throws(() => selectChain("vda", all, cpt(2), { sequence: [F.name, "nope.data"] }), /nope\.data/);
});

test("other disks' files are ignored", () => {
    const chain = selectChain("vdb", [...all, full("vdb"), inc(1, "vdb")], cpt(1), { until: "virtnbdbackup.1" });
    assert.deepEqual(names(chain.members), ["vdb.full.data", "vdb.inc.virtnbdbackup.1.data"]);
});

const VM_A = "6f1c2d3e-0000-4000-8000-00000000000a";
const VM_B = "6f1c2d3e-0000-4000-8000-00000000000b";

test("a file made of another VM is refused, naming the file and both UUIDs", () => {
    const owner = { uuid: VM_A, from: "vmconfig.virtnbdbackup.0.xml" };
    const own = [full(), inc(1), inc(2), inc(3)].map(f => ({ ...f, meta: { ...f.meta, domainUuid: VM_A } }));
    assert.deepEqual(names(selectChain("vda", own, cpt(3), { owner }).members), names(own));
    // Another VM's inc 2 fits by name, size, parent and date: only its UUID tells.
    const mixed = own.map(f => f.name === "vda.inc.virtnbdbackup.2.data" ? { ...f, meta: { ...f.meta, domainUuid: VM_B } } : f);
    assert.throws(() => selectChain("vda", mixed, cpt(3), { owner }), (err: unknown) =>
        err instanceof ChainError && err.file === "vda.inc.virtnbdbackup.2.data" &&
        err.message === `vda.inc.virtnbdbackup.2.data: made of the VM with UUID ${VM_B}, but this backup is of the VM with UUID ${VM_A} ` +
            "(vmconfig.virtnbdbackup.0.xml): the file belongs to another VM");
    // Up to the point before it, the chain is fine.
    assert.equal(selectChain("vda", mixed, cpt(3), { owner, until: "virtnbdbackup.1" }).members.length, 2);
    // No UUID in the folder: the files must still agree among themselves.
    assert.throws(() => selectChain("vda", mixed, cpt(3)), /vda\.inc\.virtnbdbackup\.2\.data: made of the VM with UUID .*b, but vda\.full\.data of the VM with UUID .*a: the chain mixes files of two VMs/);
});

test("files without a UUID (the other tool's) pass; case does not matter", () => {
    const owner = { uuid: VM_A.toUpperCase(), from: "checkpoints/virtnbdbackup.0.xml" };
    const files = [full(), { ...inc(1), meta: { ...inc(1).meta, domainUuid: VM_A } }, inc(2)];
    assert.doesNotThrow(() => checkOwners(files, owner));
    assert.doesNotThrow(() => checkOwners(files, null));
    assert.doesNotThrow(() => checkOwners([full(), inc(1)], owner));
});
