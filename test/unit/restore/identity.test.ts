// SPDX-License-Identifier: GPL-3.0-or-later
// The VM a backup folder belongs to (identity.ts) and what the shared check says a file's content
// checks could not cover (check-content.ts): the pure parts of the check restore and verify share.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { BackupFolder } from "../../../helper/restore/folder.ts";
import { folderIdentity, ownerOf } from "../../../helper/restore/identity.ts";
import { contentError, uncheckedPart } from "../../../helper/restore/check-content.ts";

const UUID = "6f1c2d3e-0000-4000-8000-00000000000a";

function folder(over: Partial<BackupFolder>): BackupFolder {
    return { dir: "/b", files: [], unreadable: [], partials: [], checkpointLists: [], configs: [], checkpointXmls: [], problems: [], ...over };
}

const config = (name: string, uuid: string, file = "vmconfig.virtnbdbackup.0.xml") =>
    ({ name: file, ident: "virtnbdbackup.0", config: { name, uuid, type: "kvm", disks: [], boot: {}, guestAgent: false } });

test("the folder's VM comes from its saved config, and names that file", () => {
    const id = folderIdentity(folder({ configs: [config("vm1", UUID)], checkpointLists: [{ name: "vm1.cpt", vm: "vm1", checkpoints: [] }] }));
    assert.deepEqual(id, { name: "vm1", uuid: UUID, from: "vmconfig.virtnbdbackup.0.xml" });
    assert.deepEqual(ownerOf(id), { uuid: UUID, from: "vmconfig.virtnbdbackup.0.xml" });
});

test("without a config holding a UUID, a checkpoint XML of the VM names it", () => {
    const id = folderIdentity(folder({
        checkpointLists: [{ name: "vm1.cpt", vm: "vm1", checkpoints: ["virtnbdbackup.0"] }],
        checkpointXmls: [{ name: "checkpoints/virtnbdbackup.0.xml", domain: { name: "vm1", uuid: UUID } }],
    }));
    assert.deepEqual(id, { name: "vm1", uuid: UUID, from: "checkpoints/virtnbdbackup.0.xml" });
    // Nothing names a UUID: files are only checked against each other.
    const bare = folderIdentity(folder({ checkpointLists: [{ name: "vm1.cpt", vm: "vm1", checkpoints: [] }] }));
    assert.deepEqual(bare, { name: "vm1", uuid: null, from: "vm1.cpt" });
    assert.equal(ownerOf(bare), null);
    assert.equal(ownerOf(null), null);
});

test("a config of another VM is refused; UUIDs compare without regard to case", () => {
    assert.throws(() => folderIdentity(folder({ configs: [config("vm1", UUID), config("vm2", UUID.replace("a", "b"), "vmconfig.virtnbdbackup.1.xml")] })),
        /vmconfig\.virtnbdbackup\.1\.xml: config of VM "vm2" .* the folder mixes VMs/);
    assert.doesNotThrow(() => folderIdentity(folder({ configs: [config("vm1", UUID), config("vm1-renamed", UUID.toUpperCase(), "vmconfig.virtnbdbackup.1.xml")] })));
});

test("says per file what could not be checked without a .chksum", () => {
    assert.equal(uncheckedPart("ok", "plain"), undefined);
    assert.equal(uncheckedPart("failed", "lz4"), undefined);
    assert.match(uncheckedPart("missing", "plain")!, /^no checksum file: data content not verifiable/);
    assert.match(uncheckedPart("missing", "lz4")!, /^no checksum file: frame structure and lz4 content checksums checked/);
    assert.match(uncheckedPart("missing", "raw")!, /raw image .* not verifiable/);
});

test("the error a restore meets first: the copy's (lz4, read) before the checksum's", () => {
    assert.equal(contentError({ checksum: "ok", lz4: true }), undefined);
    assert.equal(contentError({ checksum: "failed", checksumError: "sum", lz4: false, dataError: "lz4" }), "lz4");
    assert.equal(contentError({ checksum: "failed", checksumError: "sum", lz4: true }), "sum");
});
