// SPDX-License-Identifier: GPL-3.0-or-later
// The built CLIs, run as the files users run: their first line starts node without NODE_EXTRA_CA_CERTS (node
// would otherwise load that certificate file before any code runs; a missing one makes it warn, which is how
// this test sees it), and the restore CLI with its node options.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import nodeOptions from "../../../helper/cli/node-options.json" with { type: "json" };
import { ensureBuilt } from "../../lib/build.ts";

const DIST = path.resolve(import.meta.dirname, "../../../dist/helper");
const env = { ...process.env, NODE_EXTRA_CA_CERTS: `/nonexistent-${process.pid}.pem` };

test("the CLIs start without NODE_EXTRA_CA_CERTS; node itself would read it", async () => {
    await ensureBuilt();
    const control = spawnSync(process.execPath, ["-e", "0"], { env, encoding: "utf8" });
    assert.match(control.stderr, /extra certs/, "node reads NODE_EXTRA_CA_CERTS when started with it");
    for (const cli of ["virtnbdbackup", "virtnbdrestore", "virtnbdmap", "virtnbdprune"]) {
        const r = spawnSync(path.join(DIST, `${cli}.js`), ["--version"], { env, encoding: "utf8" });
        assert.equal(r.status, 0, `${cli}: ${r.stderr}`);
        assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/, cli);
        assert.equal(r.stderr, "", cli);
    }
    // The restore CLI's node options (helper/cli/node-options.json) are on its first line.
    const first = fs.readFileSync(path.join(DIST, "virtnbdrestore.js"), "utf8").split("\n", 1)[0];
    assert.equal(first, `#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node ${nodeOptions.virtnbdrestore}`);
});
