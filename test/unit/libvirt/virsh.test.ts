// SPDX-License-Identifier: GPL-3.0-or-later
// virsh error handling (against real virsh, no daemon needed) and the parsers of virsh's text output.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseBlkinfo, parseBlkinfoTable, parseDomainState } from "../../../helper/libvirt/domains.ts";
import { parseLifecycleLine } from "../../../helper/libvirt/events.ts";
import { classify, cleanMessage, LibvirtError, quoteVirshArg, virsh, virshBatch } from "../../../helper/libvirt/virsh.ts";

describe("virsh errors", () => {
    test("a socket nobody listens on is 'unavailable', with a one-line message", async () => {
        const uri = "qemu+unix:///system?socket=/nonexistent/vnbt.sock";
        const err = await virsh(["list", "--all", "--name"], { uri }).then(() => null, (e: unknown) => e);
        assert.ok(err instanceof LibvirtError);
        assert.equal(err.code, "unavailable");
        assert.equal(err.uri, uri);
        assert.doesNotMatch(err.message, /\n|^error:/);
        assert.match(err.message, /Failed to connect socket to '\/nonexistent\/vnbt\.sock'/);
    });

    test("a missing virsh binary is 'no-virsh'", async () => {
        const path = process.env.PATH;
        process.env.PATH = "/nonexistent";
        try {
            await assert.rejects(virsh(["version"]), (e: unknown) => e instanceof LibvirtError && e.code === "no-virsh");
        } finally {
            process.env.PATH = path;
        }
    });

    test("a virsh that takes too long is killed: 'timeout'", async () => {
        // libvirt's built-in test driver needs no daemon; `event --timeout` just waits.
        await assert.rejects(virsh(["event", "--all", "--timeout", "10"], { uri: "test:///default", timeoutMs: 300 }),
                             (e: unknown) => e instanceof LibvirtError && e.code === "timeout");
    });

    test("stdout comes back on success (libvirt's built-in test driver)", async () => {
        assert.equal(await virsh(["list", "--all", "--name"], { uri: "test:///default" }), "test\n\n");
    });

    test("stderr lines of virsh become one line without 'error:' prefixes", () => {
        assert.equal(cleanMessage("error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/x': No such file or directory\n"),
                     "failed to connect to the hypervisor: Failed to connect socket to '/x': No such file or directory");
        assert.equal(cleanMessage("error: a\nerror: a\n\n"), "a");
    });

    test("classification of the texts libvirt 9 prints", () => {
        assert.equal(classify("error: failed to get domain 'nope'\n"), "no-domain");
        assert.equal(classify("error: Domain not found: no domain with matching name 'x'"), "no-domain");
        assert.equal(classify("error: Domain checkpoint not found: no domain checkpoint with matching name 'nope'"), "no-checkpoint");
        assert.equal(classify("error: Requested operation is not valid: domain is not running"), "not-running");
        assert.equal(classify("error: Requested operation is not valid: cannot undefine domain with 1 checkpoints"), "invalid-operation");
        assert.equal(classify("error: failed to connect to the hypervisor\nerror: Failed to connect socket"), "unavailable");
        assert.equal(classify("error: internal error: something else"), "other");
    });
});

describe("virsh batches (several commands, one process)", () => {
    const uri = "test:///default";

    test("each command's output on its own, a failing one empty with its error in stderr", async () => {
        const r = await virshBatch([["domstate", "--domain", "test"], ["dumpxml", "--domain", "no such vm"], ["list", "--all", "--name"]], { uri, readonly: true });
        assert.equal(r.outputs.length, 3);
        assert.equal(r.outputs[0]!.trim(), "running");
        assert.equal(r.outputs[1], "");
        assert.equal(r.outputs[2]!.trim(), "test");
        assert.match(r.stderr, /failed to get domain 'no such vm'/);
    });

    test("arguments with spaces, quotes and semicolons stay one argument", async () => {
        const name = "a'b; list";
        const r = await virshBatch([["domstate", "--domain", name], ["domstate", "--domain", "test"]], { uri });
        assert.deepEqual(r.outputs.map(o => o.trim()), ["", "running"]);
        assert.match(r.stderr, /failed to get domain 'a'b; list'/);
        assert.equal(quoteVirshArg("vnbt-1.x_y"), "vnbt-1.x_y");
        assert.equal(quoteVirshArg("a'b"), "'a'\\''b'");
    });

    test("an unreachable libvirt rejects the whole batch as 'unavailable'", async () => {
        await assert.rejects(virshBatch([["list"]], { uri: "qemu+unix:///system?socket=/nonexistent/vnbt.sock" }),
                             (e: unknown) => e instanceof LibvirtError && e.code === "unavailable" && !e.message.includes("\n"));
    });

    test("a list too long for one argument is split over several virsh runs, answers still in order", async () => {
        // ~4000 commands make a script of ~250 kB, beyond Linux's 128 KiB per argument.
        const commands = Array.from({ length: 4000 }, (_, i) => i % 1000 === 999 ? ["domstate", "--domain", `gone-${i}`] : ["domstate", "--domain", "test"]);
        const r = await virshBatch(commands, { uri, readonly: true });
        assert.equal(r.outputs.length, 4000);
        r.outputs.forEach((o, i) => assert.equal(o.trim(), i % 1000 === 999 ? "" : "running", `command ${i}`));
        assert.equal(r.stderr.match(/failed to get domain 'gone-\d+'/g)?.length, 4);
    });

    test("no commands: no virsh at all", async () => {
        assert.deepEqual(await virshBatch([], { uri }), { outputs: [], stderr: "" });
    });
});

describe("virsh output parsers", () => {
    test("lifecycle event lines", () => {
        assert.deepEqual(parseLifecycleLine("event 'lifecycle' for domain 'vm 1': Started Booted"), { domain: "vm 1", event: "Started" });
        assert.deepEqual(parseLifecycleLine("event 'lifecycle' for domain 'a': Undefined Removed"), { domain: "a", event: "Undefined" });
        assert.equal(parseLifecycleLine("event 'block-job' for domain 'a': Backup for vda canceled"), null);
        assert.equal(parseLifecycleLine("event loop timeout"), null);
    });

    test("domblkinfo --all table with its header (no -q)", () => {
        const sizes = parseBlkinfoTable(" Target   Capacity   Allocation   Physical\n------------------------------\n vda   33554432   200704   196616\n\n");
        assert.deepEqual(Object.fromEntries(sizes), { vda: { capacity: 33554432, allocation: 200704 } });
    });

    test("domblkinfo --all table, '-' for an empty drive", () => {
        const sizes = parseBlkinfoTable(" vda   33554432   200704   196616\n hdc   -          -        -\n\n");
        assert.deepEqual(Object.fromEntries(sizes), {
            vda: { capacity: 33554432, allocation: 200704 },
            hdc: { capacity: null, allocation: null },
        });
    });

    test("domblkinfo of one disk", () => {
        assert.deepEqual(parseBlkinfo("Capacity:       67108864\nAllocation:     10756096\nPhysical:       10813440\n\n"),
                         { capacity: 67108864, allocation: 10756096 });
    });

    test("domstate", () => {
        assert.equal(parseDomainState("shut off\n\n"), "shut off");
        assert.equal(parseDomainState("running\n"), "running");
        assert.equal(parseDomainState("something new\n"), "no state");
    });
});
