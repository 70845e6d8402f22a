// SPDX-License-Identifier: GPL-3.0-or-later
// The one judge of a record's process (tools/proc.ts processLiveness): checked against real processes of
// this namespace, and records naming another PID namespace, which are never judged dead from here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import {
    currentProcess, holderLine, parseHolderLine, pidNamespace, processLiveness, processRunning, processStartTime,
} from "../../../helper/tools/proc.ts";

const ownNs = pidNamespace();
/** A namespace inode that is not ours (inode numbers of nsfs are never 1). */
const otherNs = 1;

test("the PID namespace is the inode of /proc/self/ns/pid, and this process's record names it", () => {
    assert.equal(ownNs, fs.statSync("/proc/self/ns/pid").ino);
    assert.match(fs.readlinkSync("/proc/self/ns/pid"), new RegExp(`^pid:\\[${ownNs}\\]$`));
    const me = currentProcess();
    assert.deepEqual(me, { pid: process.pid, start: processStartTime(process.pid), pidNs: ownNs });
    assert.equal(processLiveness(me), "running");
});

test("a process of this namespace runs until it ends; its pid with another start time is another process", async () => {
    const child = spawn("sleep", ["60"], { stdio: "ignore" });
    await once(child, "spawn");
    const ref = { pid: child.pid!, start: processStartTime(child.pid!), pidNs: ownNs! };
    assert.equal(processLiveness(ref), "running");
    assert.equal(processLiveness({ ...ref, start: Number(ref.start) }), "running", "a start time stored as a number");
    assert.equal(processLiveness({ ...ref, start: String(Number(ref.start) + 1) }), "gone", "a reused pid");
    child.kill("SIGKILL");
    await once(child, "exit");
    assert.equal(processLiveness(ref), "gone");
    assert.equal(processRunning(ref), false);
});

test("a record of another PID namespace is never judged dead, whatever its pid is here", async () => {
    const child = spawn("true", { stdio: "ignore" });
    await once(child, "exit");
    const deadHere = { pid: child.pid!, start: "1", pidNs: otherNs };
    assert.equal(processLiveness(deadHere), "other-namespace");
    assert.equal(processRunning(deadHere), true);
    // Even our own pid: in that namespace it is another process.
    assert.equal(processLiveness({ pid: process.pid, pidNs: otherNs }), "other-namespace");
});

test("records of older versions (no namespace) keep the old rule: pid and start time here", async () => {
    const child = spawn("true", { stdio: "ignore" });
    await once(child, "exit");
    assert.equal(processLiveness({ pid: child.pid!, start: null }), "gone");
    assert.equal(processLiveness({ pid: child.pid! }), "gone");
    assert.equal(processLiveness({ pid: process.pid, start: null }), "running");
    assert.equal(processLiveness({ pid: process.pid }), "running");
    for (const pid of [0, -1, Number.NaN, 1.5])
        assert.equal(processLiveness({ pid }), "gone");
    assert.equal(processRunning(undefined), false);
});

test("a lock file's holder line names pid and namespace; a line of an older version the pid alone", () => {
    assert.equal(holderLine(), `${process.pid} ${ownNs}\n`);
    assert.deepEqual(parseHolderLine(holderLine()), { pid: process.pid, pidNs: ownNs });
    assert.deepEqual(parseHolderLine("123\n"), { pid: 123 });
    assert.equal(parseHolderLine(""), undefined);
    assert.equal(parseHolderLine("x 5"), undefined);
    assert.equal(processLiveness(parseHolderLine(`${process.pid} ${otherNs}\n`)!), "other-namespace");
});
