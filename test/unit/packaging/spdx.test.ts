// SPDX-License-Identifier: GPL-3.0-or-later
// Every source file of ours names its license (package.json: GPL-3.0-or-later) in an SPDX line at the top.
import { it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../../..");

it("every tracked source file starts with the SPDX license line (node tools/spdx.mjs --fix adds it)", () => {
    const run = spawnSync(process.execPath, ["tools/spdx.mjs"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^missing in 0 files/);
});
