// SPDX-License-Identifier: GPL-3.0-or-later
// Who reads backup files (what pruning and consolidation leave alone): a mapping named by what it is for,
// and which user reads a chain folder or a merge's files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeUser, inUseRefusal, withPreviewRefusal, userOfFiles, userOfFolder, type ChainUser } from "../../../helper/jobs/chain-users.ts";
import { touchedFiles } from "../../../helper/jobs/consolidate.ts";
import type { ConsolidationPlan } from "../../../helper/consolidate/plan.ts";
import type { BackupFile } from "../../../helper/restore/chain.ts";

const mapping = { dir: "/run/virtnbdbackup/maps/0123456789abcdef", pid: 4242, files: ["/b/vm/vda.full.data"] };
const node = "/usr/bin/node";

test("a mapping is named by the VM started on it, the browse session served from it, else its program", () => {
    const socket = `${mapping.dir}/vda.sock`;
    const instant = { name: "web-restored", pid: 9, disks: [{ dev: "vda", overlay: "/x", uri: `nbd+unix:///?socket=${socket}`, size: 1 }] };
    assert.equal(describeUser(mapping, [instant], [], null), 'the VM "web-restored" started from backup');
    assert.equal(describeUser(mapping, [{ ...instant, disks: [], pid: 4242 }], [], null), 'the VM "web-restored" started from backup');
    assert.equal(describeUser(mapping, [{ ...instant, disks: [{ ...instant.disks[0], uri: "nbd+unix:///?socket=/run/virtnbdbackup/maps/0123456789abcdeX/vda.sock" }] }], [], null),
                 "a program (process 4242)");
    assert.equal(describeUser(mapping, [], [{ id: "fedcba9876543210", socket }], null), "browse session fedcba9876543210 (Browse files)");
    assert.equal(describeUser(mapping, [], [], [node, "/usr/lib/cockpit-virtnbdbackup/virtnbdmap.js", "--json", "-i", "/b/vm"]), "virtnbdmap (process 4242)");
    assert.equal(describeUser(mapping, [], [], [node, "/usr/lib/cockpit-virtnbdbackup/helper.js", "map-restore-point", "--domain", "x"]),
                 "helper map-restore-point (process 4242)");
    assert.equal(describeUser(mapping, [], [], [node, "/x/virtnbdrestore.js", "-i", "/b"]), "virtnbdrestore (process 4242)");
});

test("a chain folder is read when a file directly in it is; a merge when a file it touches is", () => {
    const users: ChainUser[] = [{ who: "virtnbdmap (process 1)", files: ["/b/vm/chain-2/vda.full.data", "/b/vm/chain-2/vda.inc.virtnbdbackup.1.data"] }];
    assert.equal(userOfFolder("/b/vm/chain-2", users), users[0]);
    assert.equal(userOfFolder("/b/vm", users), undefined, "the VM folder itself is another chain");
    assert.equal(userOfFolder("/b/vm/chain-3", users), undefined);
    assert.equal(userOfFiles(["/b/vm/chain-2/vda.inc.virtnbdbackup.1.data"], users), users[0]);
    assert.equal(userOfFiles(["/b/vm/chain-2/vda.inc.virtnbdbackup.2.data"], users), undefined);
    assert.match(inUseRefusal("chain-2", users[0]).message, /^virtnbdmap \(process 1\) reads chain-2: nothing was changed/);
});

test("a merge touches its members, the files it removes and the one it replaces", () => {
    const member = (name: string) => ({ name }) as BackupFile;
    const plan = {
        point: "virtnbdbackup.3", dropped: ["virtnbdbackup.2"], removedFiles: ["vda.inc.virtnbdbackup.2.data", "vmconfig.virtnbdbackup.2.xml"],
        disks: [{ dev: "vda", kind: "inc", parent: "virtnbdbackup.1", output: "vda.inc.virtnbdbackup.3.data",
                  members: [member("vda.inc.virtnbdbackup.2.data"), member("vda.inc.virtnbdbackup.3.data")], removed: [], next: undefined }],
    } as ConsolidationPlan;
    assert.deepEqual(touchedFiles("/b/vm", plan).sort(),
                     ["/b/vm/vda.inc.virtnbdbackup.2.data", "/b/vm/vda.inc.virtnbdbackup.3.data", "/b/vm/vmconfig.virtnbdbackup.2.xml"]);
});

test("a dry run that meets files in use says what the real run would do; the real run's refusal stays", async () => {
    const user: ChainUser = { who: "browse session ab12 (Browse files)", files: ["/b/chain-1/vda.full.data"] };
    const refuse = () => Promise.reject(inUseRefusal("chain-1", user));
    await assert.rejects(withPreviewRefusal(true, refuse), {
        name: "ChainInUseError",
        message: "browse session ab12 (Browse files) reads chain-1: while it does, this is refused and would change nothing (stop it first, then try again)",
    });
    await assert.rejects(withPreviewRefusal(false, refuse), { message: "browse session ab12 (Browse files) reads chain-1: nothing was changed (stop it first, then try again)" });
    await assert.rejects(withPreviewRefusal(true, () => Promise.reject(new Error("other"))), { message: "other" });
    assert.equal(await withPreviewRefusal(true, () => Promise.resolve(3)), 3);
});
