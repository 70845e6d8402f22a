// SPDX-License-Identifier: GPL-3.0-or-later
// Every damage the restore must refuse, on chains made by the real virtnbdbackup: each stops with one
// line naming the file, exit != 0, and leaves no image (complete-looking or partial) behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { adler32 } from "../../helper/engine/adler32.ts";
import { runOk } from "../lib/exec.ts";
import { compareImages, type TestVm } from "../lib/vm.ts";
import { ourRestore, PY_BACKUP } from "../lib/backup-cli.ts";
import { testBed } from "../lib/test-bed.ts";

const bed = testBed({ name: "refuse", everyVm: true });
let tmp = "";
let good = "";       // VM A: full, inc1, inc2 of two disks
let foreign = "";    // VM B: full, inc1..inc3 of one disk of another size
let expectedA: string[] = [];
let vmA: TestVm;
let caseNo = 0;


async function backup(vm: TestVm, level: string, dir: string) {
    await runOk(PY_BACKUP, ["-d", vm.name, "-l", level, "-o", dir, "-n"], { timeoutMs: 300_000 });
}

bed.before(async () => {
    tmp = bed.work;
    good = path.join(tmp, "good");
    foreign = path.join(tmp, "foreign");
    vmA = await bed.vm({ disks: [{ size: "64M", writes: [{ offset: 0, length: "4M", pattern: 0x41 }] }, { size: "32M" }] });
    const vmB = await bed.vm({ disks: [{ size: "48M", writes: [{ offset: 0, length: "1M", pattern: 0x42 }] }] });
    await backup(vmA, "full", good);
    await backup(vmB, "full", foreign);
    for (let n = 1; n <= 3; n++) {
        await vmB.write(0, { offset: `${n}M`, length: "1M", pattern: 0x50 + n });
        await backup(vmB, "inc", foreign);
        if (n === 3)
            break;
        await vmA.write(0, { offset: `${8 * n}M`, length: "2M", pattern: 0x60 + n });
        await vmA.write(1, { offset: `${n}M`, length: "512K", pattern: 0x70 + n });
        await backup(vmA, "inc", good);
    }
    expectedA = await Promise.all(vmA.disks.map((_, i) => vmA.snapshotExpected(i, "refuse-newest")));
    await vmB.cleanup();
});

/** A fresh copy of the good backup to damage. */
function copyOfGood(): string {
    const dir = path.join(tmp, `case-${++caseNo}`);
    fs.cpSync(good, dir, { recursive: true });
    return dir;
}

/** Runs a restore that must be refused; checks the message names `file` and nothing was left behind. */
async function expectRefusal(input: string, file: string, pattern?: RegExp, extra: string[] = []): Promise<string> {
    const out = path.join(tmp, `out-${caseNo}`);
    const r = await ourRestore(["-i", input, "-o", out, "-n", ...extra]);
    assert.notEqual(r.code, 0, `restore of damaged ${file} must fail; stderr: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `one line on stderr: ${r.stderr}`);
    assert.ok(lines[0]!.includes(file), `the message names ${file}: ${lines[0]}`);
    if (pattern)
        assert.match(lines[0]!, pattern);
    const left = fs.existsSync(out) ? fs.readdirSync(out) : [];
    assert.deepEqual(left, [], `nothing left in the output folder: ${left.join(", ")}`);
    // Verify (of every point, the newest state among them) refuses it too, for restore's reason.
    const verify = await ourRestore(["-i", input, "-a", "verify", ...extra]);
    assert.notEqual(verify.code, 0, `verify of damaged ${file} must fail too; stderr: ${verify.stderr}`);
    const reason = lines[0]!.replace(/^virtnbdrestore: /, "");
    assert.ok(verify.stderr.trim().split("\n").some(l => l === `virtnbdrestore: ${reason}` || l === `FAIL restore point newest: ${reason}`),
              `verify gives restore's reason (${reason}): ${verify.stderr}`);
    return lines[0]!;
}

function patch(file: string, at: number, bytes: string) {
    const fd = fs.openSync(file, "r+");
    fs.writeSync(fd, Buffer.from(bytes, "latin1"), 0, bytes.length, at);
    fs.closeSync(fd);
}

test("the undamaged backup restores, with good checksums verified and a .partial file ignored", async () => {
    const dir = copyOfGood();
    for (const name of fs.readdirSync(dir).filter(n => n.endsWith(".data")))
        fs.writeFileSync(path.join(dir, `${name}.chksum`), String(adler32(fs.readFileSync(path.join(dir, name)))));
    fs.writeFileSync(path.join(dir, "vda.inc.virtnbdbackup.3.data.partial"), "unfinished");
    const verify = await ourRestore(["-i", dir, "-a", "verify", "--json"]);
    assert.equal(verify.code, 0, verify.stderr);
    const result = JSON.parse(verify.stdout.trim().split("\n").at(-1)!) as { ok: boolean; files: { file: string; checksum: string }[] };
    assert.equal(result.files.length, 6);
    assert.ok(result.files.every(f => f.checksum === "ok"));
    const out = path.join(tmp, "good-out");
    const r = await ourRestore(["-i", dir, "-o", out, "-n", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"event":"warning","message":"ignoring vda\.inc\.virtnbdbackup\.3\.data\.partial/);
    const res = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { disks: { checksums: { status: string }[] }[] };
    assert.ok(res.disks.every(d => d.checksums.every(c => c.status === "ok")), "checksums checked during the restore");
    for (const [i, disk] of vmA.disks.entries()) {
        const cmp = await compareImages(path.join(out, path.basename(disk.path)), expectedA[i]!);
        assert.ok(cmp.identical, cmp.output);
    }
    // An existing image is never overwritten.
    const before = fs.statSync(path.join(out, "vda.qcow2"));
    const again = await ourRestore(["-i", dir, "-o", out, "-n"]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already exists/);
    assert.equal(fs.statSync(path.join(out, "vda.qcow2")).mtimeMs, before.mtimeMs);
});

test("a truncated file is refused", async () => {
    const dir = copyOfGood();
    const f = path.join(dir, "vda.inc.virtnbdbackup.2.data");
    fs.truncateSync(f, fs.statSync(f).size - 10);
    await expectRefusal(dir, "vda.inc.virtnbdbackup.2.data", /truncated|past the end|stop frame/);
});

test("a corrupted frame header is refused", async () => {
    const dir = copyOfGood();
    const f = path.join(dir, "vda.inc.virtnbdbackup.1.data");
    const at = fs.readFileSync(f).indexOf("data 0000");
    patch(f, at, "dxta");
    await expectRefusal(dir, "vda.inc.virtnbdbackup.1.data", /frame kind/);
});

test("an incremental with a damaged meta header is refused (the Python tool skips it and exits 0)", async () => {
    const dir = copyOfGood();
    patch(path.join(dir, "vda.inc.virtnbdbackup.1.data"), 0, "mxta");
    await expectRefusal(dir, "vda.inc.virtnbdbackup.1.data", /meta frame/);
});

test("a dataSize that does not match the frames is refused", async () => {
    const dir = copyOfGood();
    const f = path.join(dir, "vda.inc.virtnbdbackup.1.data");
    const text = fs.readFileSync(f).subarray(0, 400).toString("latin1");
    const m = /"dataSize": (\d+)/.exec(text)!;
    const digitAt = m.index + m[0].length - 1;
    patch(f, digitAt, m[1]!.endsWith("1") ? "2" : "1");
    await expectRefusal(dir, "vda.inc.virtnbdbackup.1.data", /dataSize/);
});

test("a bad checksum is refused", async () => {
    const dir = copyOfGood();
    fs.writeFileSync(path.join(dir, "vdb.inc.virtnbdbackup.1.data.chksum"), "12345");
    await expectRefusal(dir, "vdb.inc.virtnbdbackup.1.data", /checksum mismatch/);
    const verify = await ourRestore(["-i", dir, "-a", "verify"]);
    assert.notEqual(verify.code, 0);
    assert.match(verify.stderr, /FAIL vdb\.inc\.virtnbdbackup\.1\.data: frames ok, checksum mismatch/);
});

test("a missing incremental in the middle is a gap", async () => {
    const dir = copyOfGood();
    fs.rmSync(path.join(dir, "vda.inc.virtnbdbackup.1.data"));
    await expectRefusal(dir, "vda.inc.virtnbdbackup.2.data", /chain gap/);
});

test("a missing newest incremental is found through the checkpoint list", async () => {
    const dir = copyOfGood();
    fs.rmSync(path.join(dir, "vdb.inc.virtnbdbackup.2.data"));
    await expectRefusal(dir, "vdb.inc.virtnbdbackup.2.data", /no incremental backup/);
});

test("an unreadable member is refused", async () => {
    const dir = copyOfGood();
    const f = path.join(dir, "vda.inc.virtnbdbackup.2.data");
    fs.rmSync(f);
    fs.mkdirSync(f);
    await expectRefusal(dir, "vda.inc.virtnbdbackup.2.data");
});

test("another VM's incremental is refused", async () => {
    const dir = copyOfGood();
    fs.copyFileSync(path.join(foreign, "vda.inc.virtnbdbackup.3.data"), path.join(dir, "vda.inc.virtnbdbackup.3.data"));
    await expectRefusal(dir, "vda.inc.virtnbdbackup.3.data", /another backup or VM/);
});

test("another VM's incremental under an expected name is refused", async () => {
    const dir = copyOfGood();
    fs.copyFileSync(path.join(foreign, "vda.inc.virtnbdbackup.2.data"), path.join(dir, "vda.inc.virtnbdbackup.2.data"));
    await expectRefusal(dir, "vda.inc.virtnbdbackup.2.data", /disk size|another/);
});

test("another VM's config in the folder is refused", async () => {
    const dir = copyOfGood();
    fs.copyFileSync(path.join(foreign, "vmconfig.virtnbdbackup.0.xml"), path.join(dir, "vmconfig.virtnbdbackup.7.xml"));
    await expectRefusal(dir, "vmconfig.virtnbdbackup.7.xml", /mixes VMs/);
});
