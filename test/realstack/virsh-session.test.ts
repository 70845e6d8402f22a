// SPDX-License-Identifier: GPL-3.0-or-later
// The virsh shell a backup run shares for its libvirt calls (helper/libvirt/virsh-session.ts), against real
// libvirt: every answer and error the same as one virsh process per call gives, and a backup run that starts
// virsh once (counted through a wrapper first on PATH) and restores exactly.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { closeVirshSession, LibvirtError, openVirshSession, virsh, virshBatch } from "../../helper/libvirt/virsh.ts";
import { SessionClosedError, VirshSession } from "../../helper/libvirt/virsh-session.ts";
import { VIRSH_CACHE_DIR } from "../../helper/backup/run-dir.ts";
import { ourCli, ourRestoreOk } from "../lib/backup-cli.ts";
import { run } from "../lib/exec.ts";
import { LIBVIRT_URI } from "../lib/libvirtd.ts";
import { compareImages, type TestVm } from "../lib/vm.ts";
import { testBed } from "../lib/test-bed.ts";

const bed = testBed({ name: "virsh-session" });
let vm: TestVm;

bed.before(async () => {
    vm = await bed.vm({ disks: [{ size: "64M", writes: [{ offset: 0, length: "1M", random: true }] }] });
});

/** Both ways: one virsh per call, then the same calls through a shell. */
async function bothWays<T>(calls: () => Promise<T>): Promise<[T, T]> {
    const alone = await calls();
    openVirshSession(LIBVIRT_URI);
    try {
        return [alone, await calls()];
    } finally {
        closeVirshSession();
    }
}

const settled = (p: Promise<string>) => p.then(out => ({ out }), (e: LibvirtError) => ({ error: e.message, code: e.code, name: e.name }));

test("answers and errors through the shell are those of one virsh per call", async () => {
    const calls = () => Promise.all([
        ["dumpxml", "--domain", vm.name],
        ["domjobinfo", "--domain", vm.name],
        ["checkpoint-list", "--domain", vm.name, "--name"],
        ["domstate", "--domain", vm.name],
        ["domblklist", "--domain", vm.name],
        ["echo", "a b'c \"d\" $HOME ; e"],
        ["domstate", "--domain", "vnbt-no-such-vm"],
        ["checkpoint-dumpxml", "--domain", vm.name, "--checkpointname", "no-such-checkpoint"],
    ].map(args => settled(virsh(args))));
    const [alone, shared] = await bothWays(calls);
    assert.equal(shared.length, 8);
    assert.match(JSON.stringify(alone[0]), /<domain type=/);
    assert.deepEqual(alone[6], { error: "failed to get domain 'vnbt-no-such-vm'", code: "no-domain", name: "LibvirtError" });
    assert.equal((alone[7] as { code: string }).code, "no-checkpoint");
    assert.deepEqual(shared, alone);
});

test("a batch through the shell gives what one virsh process gives: outputs in order, failures empty, errors together", async () => {
    const batch = () => virshBatch([
        ["domjobinfo", "--domain", vm.name],
        ["checkpoint-dumpxml", "--domain", vm.name, "--checkpointname", "no-such-checkpoint"],
        ["domstate", "--domain", vm.name],
    ]);
    const [alone, shared] = await bothWays(batch);
    assert.match(alone.outputs[0]!, /Job type:\s+None/);
    assert.equal(alone.outputs[1], "");
    assert.match(alone.stderr, /no-such-checkpoint/);
    assert.deepEqual(shared.outputs.map(o => o.trim()), alone.outputs.map(o => o.trim()));
    assert.equal(shared.stderr, alone.stderr);
});

test("a shell on a URI nobody serves: the calls run on their own and fail as they did", async () => {
    const uri = "qemu+unix:///system?socket=/nonexistent/libvirt-sock";
    const alone = await settled(virsh(["domstate", "--domain", vm.name], { uri }));
    openVirshSession(uri);
    try {
        assert.deepEqual(await settled(virsh(["domstate", "--domain", vm.name], { uri })), alone);
    } finally {
        closeVirshSession();
    }
    assert.equal((alone as { code: string }).code, "unavailable");
});

test("a shell that dies or outlives a timeout with a command in hand says so (the command is not run again); later commands are refused", async () => {
    // `event --loop --timeout N` prints domain events for N seconds (other tests' VMs make some): a command that takes a while.
    const killed = new VirshSession(LIBVIRT_URI);
    assert.equal(await killed.ready, true);
    const waiting = killed.run("event --all --loop --timeout 20", 60_000);
    await new Promise(resolve => setTimeout(resolve, 300));
    process.kill(killed.pid!, "SIGKILL");
    await assert.rejects(waiting, (e: SessionClosedError) => e instanceof SessionClosedError && e.started && /exited/.test(e.message));
    await assert.rejects(killed.run("domstate --domain " + vm.name, 5000), (e: SessionClosedError) => e instanceof SessionClosedError && !e.started);

    const slow = new VirshSession(LIBVIRT_URI);
    const started = performance.now();
    await assert.rejects(slow.run("event --all --loop --timeout 20", 500), (e: SessionClosedError) => e.started && /did not answer within 0.5 s/.test(e.message));
    assert.ok(performance.now() - started < 10_000, "the timeout, not the command, ended it");
    await assert.rejects(slow.run("echo x", 5000), (e: SessionClosedError) => !e.started);
    slow.close();
});

test("the shell's history goes to the run folder, not to the user's own virsh history", async () => {
    // The user's cache folder, with a history of their own in it, as root's ~/.cache would hold it.
    const home = fs.mkdtempSync(path.join(bed.work, "cache-"));
    const theirs = path.join(home, "libvirt", "virsh", "history");
    fs.mkdirSync(path.dirname(theirs), { recursive: true });
    fs.writeFileSync(theirs, "list --all\nstart myvm\n");
    const ours = path.join(VIRSH_CACHE_DIR, "libvirt", "virsh", "history");
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = home;
    try {
        const shell = new VirshSession(LIBVIRT_URI);
        assert.equal(await shell.ready, true);
        const probe = `history-probe-${process.pid}-${Date.now()}`;
        assert.equal((await shell.run(`echo ${probe}`, 10_000)).stdout.trim(), probe);
        const pid = shell.pid!;
        shell.close();
        // virsh writes its history as it exits, at the end of its input.
        for (let waited = 0; fs.existsSync(`/proc/${pid}`) && waited < 10_000; waited += 20)
            await new Promise(resolve => setTimeout(resolve, 20));
        assert.equal(fs.readFileSync(theirs, "utf8"), "list --all\nstart myvm\n", "the user's history is untouched");
        // virsh did keep a history (so the check above could fail): in the run folder, root's only.
        assert.match(fs.readFileSync(ours, "utf8"), new RegExp(probe));
        assert.equal(fs.statSync(VIRSH_CACHE_DIR).mode & 0o777, 0o700);
    } finally {
        if (saved === undefined)
            delete process.env.XDG_CACHE_HOME;
        else
            process.env.XDG_CACHE_HOME = saved;
    }
});

test("a backup run starts virsh once, and its full and inc restore exactly", async () => {
    // A wrapper first on PATH counts the virsh processes, then runs the real one.
    const bin = path.join(bed.work, "bin");
    const log = path.join(bed.work, "virsh-starts");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "virsh"), `#!/bin/sh\necho "$*" >> ${log}\nexec /usr/bin/virsh "$@"\n`, { mode: 0o755 });
    const out = path.join(bed.work, "backup");
    const expected: string[] = [];
    for (const level of ["full", "inc"]) {
        fs.rmSync(log, { force: true });
        if (level === "inc")
            await vm.write(0, { offset: "8M", length: "2M", random: true, seed: 7 });
        const r = await run(process.execPath, [ourCli("virtnbdbackup"), "--noprogress", "-d", vm.name, "-l", level, "-o", out],
            { env: { PATH: `${bin}:${process.env.PATH}` }, timeoutMs: 120_000 });
        assert.equal(r.code, 0, r.stderr);
        const starts = fs.readFileSync(log, "utf8").trim().split("\n");
        assert.deepEqual(starts, [`-c ${LIBVIRT_URI}`], `${level}: one virsh, its shell`);
        expected.push(await vm.snapshotExpected(0, `session-${level}`));
    }
    for (const [i, image] of expected.entries()) {
        const restored = path.join(bed.work, `restored-${i}`);
        await ourRestoreOk(["-i", out, "-o", restored, "--until", `virtnbdbackup.${i}`]);
        await compareImages(path.join(restored, "vda.qcow2"), image);
    }
});
