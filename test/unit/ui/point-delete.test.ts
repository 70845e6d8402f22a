// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import { deleteRequest } from "../../../src/app/point-delete.ts";
import type { RestorePoint } from "../../../src/backup-types.ts";

const point = (name: string, level: RestorePoint["level"], complete = true): RestorePoint =>
    ({ name, level, date: "2026-12-06T10:00:00", disks: [], complete, chain: "chain-2" });

test("delete: the first point merges into a full of the next, an inc into the next inc; never the last two", () => {
    const chain = [point("virtnbdbackup.0", "full"), point("virtnbdbackup.1", "inc"), point("virtnbdbackup.2", "inc"), point("virtnbdbackup.3", "inc")];
    assert.deepEqual(deleteRequest(chain, chain[0]), { chain: "chain-2", point: "virtnbdbackup.0", until: "virtnbdbackup.1" });
    assert.deepEqual(deleteRequest(chain, chain[1]), { chain: "chain-2", point: "virtnbdbackup.1", until: "virtnbdbackup.2", from: "virtnbdbackup.1" });
    assert.equal(deleteRequest(chain, chain[2]), null, "its changes would go into the newest point's file");
    assert.equal(deleteRequest(chain, chain[3]), null, "the newest point");
});

test("delete: not offered around differentials, copies or incomplete points", () => {
    const withDiff = [point("virtnbdbackup.0", "full"), point("1800000000", "diff"), point("virtnbdbackup.1", "inc"), point("virtnbdbackup.2", "inc")];
    assert.equal(deleteRequest(withDiff, withDiff[0]), null);
    assert.equal(deleteRequest(withDiff, withDiff[1]), null);
    const copy = [point("copy", "copy"), point("virtnbdbackup.1", "inc"), point("virtnbdbackup.2", "inc")];
    assert.equal(deleteRequest(copy, copy[0]), null);
    const incomplete = [point("virtnbdbackup.0", "full"), point("virtnbdbackup.1", "inc", false), point("virtnbdbackup.2", "inc")];
    assert.equal(deleteRequest(incomplete, incomplete[0]), null);
});
