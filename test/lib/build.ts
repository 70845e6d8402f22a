// SPDX-License-Identifier: GPL-3.0-or-later
// The built plugin and helper (dist/) the real-stack tests run. tools/run-tests.ts builds once before any
// file starts and says so in VNBT_DIST_BUILT: files running side by side must not rewrite dist/ under each
// other's cockpit-ws and helper processes. A file run on its own (node --test FILE) builds for itself.
import path from "node:path";
import { runOk } from "./exec.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** The test runner built dist/ for this run: a file must not build it again. */
export function builtByRunner(): boolean {
    return process.env.VNBT_DIST_BUILT === "1";
}

/** Builds dist/ (build.mjs with `args`) unless the test runner has already built it for this run. */
export async function ensureBuilt(args: string[] = []): Promise<void> {
    if (builtByRunner())
        return;
    await runOk(process.execPath, [path.join(ROOT, "build.mjs"), ...args], { cwd: ROOT, timeoutMs: 300_000 });
}
