// SPDX-License-Identifier: GPL-3.0-or-later
// Boot files (loader, NVRAM, kernel, initrd) and raw images in restores of backups made by our engine:
// the restore point's copies, onto the original paths or into a new VM's folder, never overwriting,
// all or nothing; raw-format disks' raw images with -r.
//
// The boot files are random bytes (no OVMF here), so the VM runs only before they are configured: an
// online full (qcow2 vda + raw vdb with -r), then, shut off with the boot files in its definition, two
// offline backups (differentials) with different NVRAM contents.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { LIBVIRT_URI } from "../lib/libvirtd.ts";
import { compareImages, type TestVm } from "../lib/vm.ts";
import { ourBackupOk, ourRestore, ourRestoreOk } from "../lib/backup-cli.ts";
import { runOk } from "../lib/exec.ts";
import { parseDomainXml } from "../../helper/libvirt/domain-xml.ts";
import { testBed } from "../lib/test-bed.ts";

const bed = testBed({ name: "boot" });
let work = "";
let vm: TestVm;
let dir = "";            // the backup folder: full, diff T1 (NVRAM A), diff T2 (NVRAM B)
let bootDir = "";        // the VM's boot files
let diff1 = "";
const boot = { loader: "", nvram: "", kernel: "", initrd: "" };
const content = { loader: randomBytes(64 << 10), kernel: randomBytes(48 << 10), initrd: randomBytes(24 << 10), nvramA: randomBytes(128 << 10), nvramB: randomBytes(128 << 10) };
let expectedAt1: string;
let expectedAt2: string;
let outNo = 0;

const out = () => path.join(work, `out-${++outNo}`);
const virsh = (args: string[]) => runOk("virsh", ["-c", LIBVIRT_URI, ...args]);

bed.before(async () => {
    work = bed.work;
    dir = path.join(work, "backup");
    bootDir = fs.mkdtempSync(path.join("/var/tmp", `vnbt-${process.pid}-bootfiles-`));
    // The boot files go once the VM that names them is gone (its removal is idempotent; the bed's comes after).
    bed.onTeardown(async () => {
        await vm?.cleanup();
        fs.rmSync(bootDir, { recursive: true, force: true });
    });
    boot.loader = path.join(bootDir, "FAKE_CODE.fd");
    boot.nvram = path.join(bootDir, "nvram", "VM_VARS.fd");
    boot.kernel = path.join(bootDir, "vmlinuz");
    boot.initrd = path.join(bootDir, "initrd.img");
    vm = await bed.vm({
        disks: [
            { size: "32M", writes: [{ offset: 0, length: "2M", random: true, seed: 7 }] },
            { size: "16M", format: "raw", writes: [{ offset: "1M", length: "1M", pattern: 0x33 }, { offset: "9M", length: "512K", random: true, seed: 9 }] },
        ],
    });
    await ourBackupOk(["-d", vm.name, "-l", "full", "-r", "-o", dir]);
    await vm.shutdown();

    // Now the VM boots UEFI-style with a kernel of its own (it is not started again).
    fs.writeFileSync(boot.loader, content.loader);
    fs.mkdirSync(path.dirname(boot.nvram));
    fs.writeFileSync(boot.nvram, content.nvramA);
    fs.writeFileSync(boot.kernel, content.kernel);
    fs.writeFileSync(boot.initrd, content.initrd);
    const xml = (await virsh(["dumpxml", "--inactive", vm.name])).stdout.replace(/(<type [^>]*>hvm<\/type>)/,
        `$1\n    <loader readonly='yes' type='pflash'>${boot.loader}</loader>\n    <nvram>${boot.nvram}</nvram>\n` +
        `    <kernel>${boot.kernel}</kernel>\n    <initrd>${boot.initrd}</initrd>`)
            // libvirt wants ACPI with a UEFI loader.
            .replace(/<\/os>(?![\s\S]*<features>)/, "</os>\n  <features>\n    <acpi/>\n  </features>");
    const xmlFile = path.join(work, "domain.xml");
    fs.writeFileSync(xmlFile, xml);
    await virsh(["define", "--file", xmlFile]);

    await vm.write(0, { offset: "4M", length: "1M", pattern: 0xa1 });
    await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", dir]);
    expectedAt1 = await vm.snapshotExpected(0, "boot-t1");
    diff1 = fs.readdirSync(dir).find(n => /^vda\.diff\.\d+\.data$/.test(n))!;
    assert.ok(diff1, fs.readdirSync(dir).join(" "));
    // Differentials are named by unix seconds: the next one must not share the second.
    await new Promise(resolve => setTimeout(resolve, 1100));
    fs.writeFileSync(boot.nvram, content.nvramB);
    await vm.write(0, { offset: "8M", length: "1M", pattern: 0xa2 });
    await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", dir]);
    expectedAt2 = await vm.snapshotExpected(0, "boot-t2");
    const ident1 = diff1.split(".")[2];
    assert.ok(fs.existsSync(path.join(dir, `VM_VARS.fd.${ident1}`)), "the backup saved the NVRAM");
});

function bytesOf(file: string): Buffer {
    return fs.readFileSync(file);
}

function removeBootFiles(): void {
    for (const file of [boot.nvram, boot.kernel, boot.initrd])
        fs.rmSync(file, { force: true });
    fs.rmSync(path.dirname(boot.nvram), { recursive: true, force: true });
}

function restoreBootFiles(nvram: Buffer): void {
    fs.mkdirSync(path.dirname(boot.nvram), { recursive: true });
    fs.writeFileSync(boot.nvram, nvram);
    fs.writeFileSync(boot.kernel, content.kernel);
    fs.writeFileSync(boot.initrd, content.initrd);
}

test("-c -N: the new VM gets its own copy of the restore point's NVRAM and kernel; the original's files stay", async () => {
    restoreBootFiles(content.nvramB);
    const o = out();
    const r = await ourRestoreOk(["-i", dir, "-o", o, "-c", "-N", "bootcopy", "--json"]);
    const nvramCopy = path.join(o, "bootcopy_VARS.fd");
    assert.ok(bytesOf(nvramCopy).equals(content.nvramB), "the NVRAM copy holds the restore point's content");
    assert.ok(bytesOf(path.join(o, "vmlinuz")).equals(content.kernel));
    assert.ok(bytesOf(path.join(o, "initrd.img")).equals(content.initrd));
    const configName = fs.readdirSync(o).find(n => /^vmconfig\..+\.xml$/.test(n))!;
    const config = parseDomainXml(fs.readFileSync(path.join(o, configName), "utf8"));
    assert.equal(config.name, "bootcopy");
    assert.deepEqual(config.boot, { loader: boot.loader, nvram: nvramCopy, kernel: path.join(o, "vmlinuz"), initrd: path.join(o, "initrd.img") });
    assert.ok(bytesOf(boot.nvram).equals(content.nvramB) && bytesOf(boot.loader).equals(content.loader), "the original's files are untouched");
    assert.match(r.stdout, /"event":"boot-file","kind":"loader","configured":"[^"]+","saved":"[^"]+","status":"exists"/);
    assert.ok((await compareImages(path.join(o, "vda.qcow2"), expectedAt2)).identical);
    // Without -r the raw disk is left out, with a warning naming -r.
    assert.match(r.stdout, /vdb\.copy\.data is the raw image of raw-format disk vdb: not restored; -r\/--raw/);
    assert.ok(!fs.existsSync(path.join(o, "vdb.raw")));
    assert.equal(config.disks.map(d => d.target).join(), "vda");
});

test("without -c the boot files come back to their paths byte-identical; present ones are never overwritten", async () => {
    removeBootFiles();
    const r = await ourRestoreOk(["-i", dir, "-o", out(), "-v"]);
    assert.ok(bytesOf(boot.nvram).equals(content.nvramB), "NVRAM of the newest point, its folder created");
    assert.ok(bytesOf(boot.kernel).equals(content.kernel));
    assert.ok(bytesOf(boot.initrd).equals(content.initrd));
    assert.match(r.stderr, /nvram .*VM_VARS\.fd: restored from VM_VARS\.fd\.\d+/);
    assert.match(r.stderr, /loader .*: exists, left as it is/);

    const changed = randomBytes(128 << 10);
    fs.writeFileSync(boot.nvram, changed);
    const again = await ourRestoreOk(["-i", dir, "-o", out()]);
    assert.ok(bytesOf(boot.nvram).equals(changed), "an existing NVRAM is never replaced");
    assert.match(again.stderr, /nvram .*VM_VARS\.fd exists and differs from the backup's/);
    assert.deepEqual(fs.readdirSync(path.dirname(boot.nvram)), ["VM_VARS.fd"], "no partial left beside it");
});

test("--until an earlier point restores that point's NVRAM, with -c and onto the original path", async () => {
    const o = out();
    await ourRestoreOk(["-i", dir, "-o", o, "-c", "-N", "early", "--until", diff1]);
    assert.ok(bytesOf(path.join(o, "early_VARS.fd")).equals(content.nvramA), "the first point's NVRAM, not the newest");
    assert.ok((await compareImages(path.join(o, "vda.qcow2"), expectedAt1)).identical);
    removeBootFiles();
    await ourRestoreOk(["-i", dir, "-o", out(), "--until", diff1]);
    assert.ok(bytesOf(boot.nvram).equals(content.nvramA));
    restoreBootFiles(content.nvramB);
});

test("a failure after the boot files were written leaves none of them behind", async () => {
    const damaged = path.join(work, "damaged");
    fs.cpSync(dir, damaged, { recursive: true });
    const newest = fs.readdirSync(damaged).filter(n => /^vda\.diff\.\d+\.data$/.test(n)).sort().pop()!;
    assert.ok(fs.existsSync(path.join(damaged, `${newest}.chksum`)), "our backup writes checksums");
    fs.writeFileSync(path.join(damaged, `${newest}.chksum`), "12345");
    removeBootFiles();
    for (const extra of [[], ["-c", "-N", "failing"]]) {
        const o = out();
        const r = await ourRestore(["-i", damaged, "-o", o, ...extra]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /checksum mismatch/);
        assert.deepEqual(fs.existsSync(o) ? fs.readdirSync(o) : [], [], "nothing left in the output folder");
        assert.ok(!fs.existsSync(path.dirname(boot.nvram)), "the NVRAM (and the folder made for it) are gone again");
        assert.ok(!fs.existsSync(boot.kernel) && !fs.existsSync(`${boot.kernel}.partial`) && !fs.existsSync(boot.initrd));
    }
    restoreBootFiles(content.nvramB);
});

test("-r restores the raw disk's image byte-identical and sparse; -L logs the run", async () => {
    const o = out();
    const log = path.join(work, "restore.log");
    await ourRestoreOk(["-i", dir, "-o", o, "-r", "-L", log, "-f", path.join(work, "ignored.sock")]);
    const image = path.join(o, "vdb.raw");
    const cmp = await compareImages(image, vm.expectedPath(1));
    assert.ok(cmp.identical, cmp.output);
    const st = fs.statSync(image);
    assert.equal(st.size, 16 << 20);
    assert.ok(st.blocks * 512 < 4 << 20, `holes kept: ${st.blocks * 512} bytes allocated`);
    assert.ok((await compareImages(path.join(o, "vda.qcow2"), expectedAt2)).identical);
    const lines = fs.readFileSync(log, "utf8").trim().split("\n");
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\S+ \{"event":"start"/);
    assert.match(lines.at(-1)!, /"event":"result"/);
    assert.ok(lines.some(l => l.includes('"event":"disk","disk":"vdb"')));
    // Verify and dump still list the raw image (as not a stream).
    const dump = await ourRestore(["-i", dir, "-a", "dump", "--json"]);
    assert.match(dump.stdout, /"file":"vdb\.copy\.data","error"/);
});
