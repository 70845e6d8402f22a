// SPDX-License-Identifier: GPL-3.0-or-later
// Whose is a checkpoint: libvirt's against the folder's saved definition, and the host's registry.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseCheckpointIdentity } from "../../../helper/libvirt/domain-xml.ts";
import { checkpointDescription, descriptionToken, foreignCheckpointReason, redefineRefusal } from "../../../helper/backup/ownership.ts";
import { CheckpointRegistry } from "../../../helper/backup/checkpoint-registry.ts";

const UUID = "0b6e9bd2-6a4b-4c1e-9a57-2f1f1a6f5c01";

function dumpxml(name: string, creationTime: string, description?: string, uuid = UUID): string {
    return `<domaincheckpoint>
  <name>${name}</name>
${description === undefined ? "" : `  <description>${description}</description>\n`}  <creationTime>${creationTime}</creationTime>
  <disks>
    <disk name='vda' checkpoint='bitmap' bitmap='${name}'/>
  </disks>
  <domain type='kvm'>
    <name>vm</name>
    <uuid>${uuid}</uuid>
  </domain>
</domaincheckpoint>`;
}

test("parseCheckpointIdentity: name, creation time, description and the VM's UUID", () => {
    assert.deepEqual(parseCheckpointIdentity(dumpxml("virtnbdbackup.1", "1795696850", "Backup checkpoint (run 00ff00ff00ff00ff)", UUID.toUpperCase())),
        { name: "virtnbdbackup.1", creationTime: "1795696850", description: "Backup checkpoint (run 00ff00ff00ff00ff)", domainUuid: UUID });
    assert.deepEqual(parseCheckpointIdentity("<domaincheckpoint><name>c</name><creationTime>5</creationTime></domaincheckpoint>"),
        { name: "c", creationTime: "5", description: undefined, domainUuid: undefined });
    assert.throws(() => parseCheckpointIdentity("<domaincheckpoint><name>c</name></domaincheckpoint>"), /no name or creation time/);
    assert.throws(() => parseCheckpointIdentity("<domain/>"), /domaincheckpoint/);
});

test("the run token goes into the description and is read back; other descriptions carry none", () => {
    assert.equal(descriptionToken(checkpointDescription("a1b2c3d4e5f60718")), "a1b2c3d4e5f60718");
    assert.equal(descriptionToken("Backup checkpoint"), undefined);
    assert.equal(descriptionToken(undefined), undefined);
    assert.equal(descriptionToken("Backup checkpoint (run a1b2c3d4e5f60718) and more"), undefined);
});

test("libvirt's checkpoint is the folder's only with the same creation time, description and VM", () => {
    const mine = parseCheckpointIdentity(dumpxml("virtnbdbackup.2", "1795696850", "Backup checkpoint (run 1111111111111111)"));
    assert.equal(foreignCheckpointReason(mine, mine, UUID), undefined);
    assert.equal(foreignCheckpointReason(mine, mine, UUID.toUpperCase()), undefined);
    // Another folder's full made a checkpoint of the same name later.
    const theirs = parseCheckpointIdentity(dumpxml("virtnbdbackup.2", "1795697000", "Backup checkpoint (run 2222222222222222)"));
    assert.match(foreignCheckpointReason(theirs, mine, UUID)!,
        /libvirt's checkpoint virtnbdbackup.2 \(made 2026-11-26T\d\d:\d\d:\d\dZ\) is not this folder's \(made 2026-11-26T\d\d:\d\d:\d\dZ\): another backup folder of this VM, or another tool, made it/);
    // Same second, another run.
    const sameSecond = parseCheckpointIdentity(dumpxml("virtnbdbackup.2", "1795696850", "Backup checkpoint (run 2222222222222222)"));
    assert.match(foreignCheckpointReason(sameSecond, mine, UUID)!, /is not this folder's \(another run's mark/);
    // No saved definition: the folder cannot know it as its own.
    assert.match(foreignCheckpointReason(mine, undefined, UUID)!, /no saved definition of checkpoint virtnbdbackup.2/);
    // The folder's checkpoint was made for another VM (same name, re-created VM).
    const otherVm = parseCheckpointIdentity(dumpxml("virtnbdbackup.2", "1795696850", "Backup checkpoint (run 1111111111111111)", "ffffffff-6a4b-4c1e-9a57-2f1f1a6f5c01"));
    assert.match(foreignCheckpointReason(mine, otherVm, UUID)!, /made for another VM/);
    // The Python tool's checkpoints: no token, compared all the same.
    const python = parseCheckpointIdentity(dumpxml("virtnbdbackup.2", "1795696850"));
    assert.equal(foreignCheckpointReason(python, python, UUID), undefined);
    assert.ok(foreignCheckpointReason(python, mine, UUID));
});

test("a forgotten checkpoint is redefined unless the registry knows a later one of that name", () => {
    const saved = parseCheckpointIdentity(dumpxml("virtnbdbackup.0", "1795696850"));
    assert.equal(redefineRefusal(saved, undefined), undefined, "host moved, registry lost: trusted");
    assert.equal(redefineRefusal(saved, { creationTime: "1795696850", folder: "/b/a" }), undefined);
    // Made in the same second by another run: told apart by the run token.
    const withToken = parseCheckpointIdentity(dumpxml("virtnbdbackup.0", "1795696850", checkpointDescription("aaaaaaaaaaaaaaaa")));
    assert.equal(redefineRefusal(withToken, { creationTime: "1795696850", token: "aaaaaaaaaaaaaaaa", folder: "/b/a" }), undefined);
    assert.ok(redefineRefusal(withToken, { creationTime: "1795696850", token: "bbbbbbbbbbbbbbbb", folder: "/b/other" }));
    assert.match(redefineRefusal(saved, { creationTime: "1795697000", folder: "/b/other" })!,
        /checkpoint virtnbdbackup.0 cannot be redefined from this folder: a checkpoint of that name was made since \(.*, for the backups in \/b\/other\)/);
});

test("the registry: per VM, records and forgets, root-only files, a damaged file counts as empty", () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-registry-")), "checkpoints");
    const registry = new CheckpointRegistry(dir);
    assert.deepEqual(registry.read(UUID), {});
    registry.record(UUID, "virtnbdbackup.0", { creationTime: "10", folder: "/b/a" });
    registry.record(UUID, "virtnbdbackup.1", { creationTime: "11", folder: "/b/a" });
    registry.record(UUID, "virtnbdbackup.0", { creationTime: "12", token: "cccccccccccccccc", folder: "/b/b" });
    assert.deepEqual(registry.read(UUID.toUpperCase()), {
        "virtnbdbackup.0": { creationTime: "12", token: "cccccccccccccccc", folder: "/b/b" },
        "virtnbdbackup.1": { creationTime: "11", folder: "/b/a" },
    });
    registry.forget(UUID, ["virtnbdbackup.1", "virtnbdbackup.7"]);
    assert.deepEqual(Object.keys(registry.read(UUID)), ["virtnbdbackup.0"]);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(dir, `${UUID}.json`)).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(dir), [`${UUID}.json`], "no temporary file left");
    assert.throws(() => registry.read("../../etc/passwd"), /invalid domain UUID/);
    fs.writeFileSync(path.join(dir, `${UUID}.json`), "{not json");
    assert.deepEqual(registry.read(UUID), {});
    // A registry directory others may write to is not trusted with the record.
    fs.chmodSync(dir, 0o777);
    assert.throws(() => registry.record(UUID, "virtnbdbackup.0", { creationTime: "1", folder: "/b" }), /only its owner may change/);
    fs.rmSync(path.dirname(dir), { recursive: true });
});
