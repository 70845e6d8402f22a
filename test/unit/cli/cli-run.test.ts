// SPDX-License-Identifier: GPL-3.0-or-later
// The pure parts of the CLIs' shared plumbing: the failure line and the progress line's text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CliRun, formatProgress, oneLine } from "../../../helper/cli/cli-run.ts";

test("an error's message becomes one line: its lines trimmed, empty ones dropped, joined with ': '", () => {
    assert.equal(oneLine(new Error("virsh failed\n  error: domain is not running  \n\n")), "virsh failed: error: domain is not running");
    assert.equal(oneLine("plain text"), "plain text");
});

test("the progress line shows the share done, the bytes, the rate and the time left", () => {
    assert.equal(formatProgress("vda", 512 * 1024, 1024 * 1024, 2, 8), "vda [####----] 50% 512.0 KiB/1.0 MiB 256.0 KiB/s, 2 s left");
    assert.equal(formatProgress("vdb", 0, 0, 0, 4), "vdb [####] 100% 0 B/0 B 0 B/s");
});

test("with hangup: true a SIGHUP cancels the run through its signal (the process goes on to clean up)", async () => {
    const cli = new CliRun({ name: "t", json: false, progress: false, hangup: true });
    // A signal's listener does not keep the event loop alive: this timer does, until the abort.
    const alive = setInterval(() => {}, 1000);
    const aborted = new Promise(resolve => cli.signal.addEventListener("abort", resolve));
    process.kill(process.pid, "SIGHUP");
    await aborted;
    clearInterval(alive);
    assert.equal((cli.signal.reason as Error).message, "cancelled by SIGHUP");
});
