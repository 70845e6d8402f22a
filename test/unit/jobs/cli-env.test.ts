// SPDX-License-Identifier: GPL-3.0-or-later
// The job runner's environment for a CLI: its node options appended to NODE_OPTIONS, NODE_EXTRA_CA_CERTS left
// out, everything else as it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cliEnvironment } from "../../../helper/jobs/cli-env.ts";

test("a CLI's environment: node options appended, NODE_EXTRA_CA_CERTS left out, the rest kept", () => {
    const parent = { PATH: "/usr/bin", LANG: "C.UTF-8", NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt", NODE_OPTIONS: "--trace-warnings" };
    assert.deepEqual(cliEnvironment(parent, "--max-semi-space-size=4"),
                     { PATH: "/usr/bin", LANG: "C.UTF-8", NODE_OPTIONS: "--trace-warnings --max-semi-space-size=4" });
    assert.deepEqual(cliEnvironment(parent), { PATH: "/usr/bin", LANG: "C.UTF-8", NODE_OPTIONS: "--trace-warnings" });
    assert.deepEqual(cliEnvironment({ PATH: "/bin" }, "--max-semi-space-size=4"), { PATH: "/bin", NODE_OPTIONS: "--max-semi-space-size=4" });
    assert.equal(parent.NODE_EXTRA_CA_CERTS, "/etc/ssl/certs/ca-certificates.crt", "the parent's environment is not changed");
});
