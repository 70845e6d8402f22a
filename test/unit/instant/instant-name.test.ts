// SPDX-License-Identifier: GPL-3.0-or-later
// The name of a VM started from a backup is also its record's file name: nothing that leaves the folder,
// no option look-alike, bounded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseInstantName } from "../../../helper/cli/commands/args.ts";
import { recordFileName } from "../../../helper/instant/instant-record.ts";

test("usable names are taken, others refused", () => {
    for (const ok of ["web-now", "web_2.recovered", "A", "x".repeat(64)])
        assert.equal(parseInstantName(ok), ok);
    for (const bad of ["", "-x", ".hidden", "a/b", "..", "a..b", "web now", "x".repeat(65), "ä", "a\nb"])
        assert.throws(() => parseInstantName(bad), /not a usable virtual machine name/, bad);
});

test("the record file stays in the records' folder", () => {
    assert.equal(recordFileName("web-now"), "web-now.json");
    assert.equal(recordFileName("web-now", "log"), "web-now.log");
    assert.throws(() => recordFileName("../x"), /not a usable name/);
});
