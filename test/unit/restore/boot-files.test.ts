// SPDX-License-Identifier: GPL-3.0-or-later
// Boot files of a restore point: which saved copy belongs to it, where each goes, and the adjusted config.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseBootFile, identsUpTo, planBootFiles } from "../../../helper/restore/boot-files.ts";
import { parseDomainXml } from "../../../helper/libvirt/domain-xml.ts";
import { adjustDomainConfig } from "../../../helper/restore/domain-config.ts";
import { diff, full, inc } from "./backup-files.ts";


const F = full(), FB = full("vdb");
const I1 = inc(1), I1B = inc(1, "vdb");
const D = diff(1, 1700000000);
const I2 = inc(2), I2B = inc(2, "vdb");
const ALL = [I2B, D, F, I1B, I2, FB, I1];

test("the idents of a restore point are its own run's, then older ones, never later ones", () => {
    assert.deepEqual(identsUpTo(ALL, I1), ["virtnbdbackup.1", "virtnbdbackup.0"]);
    assert.deepEqual(identsUpTo(ALL, I1B), ["virtnbdbackup.1", "virtnbdbackup.0"]);
    assert.deepEqual(identsUpTo(ALL, I2), ["virtnbdbackup.2", "1700000000", "virtnbdbackup.1", "virtnbdbackup.0"]);
    assert.deepEqual(identsUpTo(ALL, D), ["1700000000", "virtnbdbackup.1", "virtnbdbackup.0"]);
    assert.deepEqual(identsUpTo(ALL, F), ["virtnbdbackup.0"]);
});

test("the saved copy is the newest at or before the point, not the newest in the folder", () => {
    const names = new Set(["VM_VARS.fd.virtnbdbackup.0", "VM_VARS.fd.virtnbdbackup.2", "vmlinuz.virtnbdbackup.0", "other_VARS.fd.virtnbdbackup.1"]);
    const nvram = "/var/lib/libvirt/qemu/nvram/VM_VARS.fd";
    assert.deepEqual(chooseBootFile(nvram, identsUpTo(ALL, I1), names), { name: "VM_VARS.fd.virtnbdbackup.0", ident: "virtnbdbackup.0" });
    assert.deepEqual(chooseBootFile(nvram, identsUpTo(ALL, I2), names), { name: "VM_VARS.fd.virtnbdbackup.2", ident: "virtnbdbackup.2" });
    assert.deepEqual(chooseBootFile("/boot/vmlinuz", identsUpTo(ALL, I2), names), { name: "vmlinuz.virtnbdbackup.0", ident: "virtnbdbackup.0" });
    assert.equal(chooseBootFile("/boot/initrd.img", identsUpTo(ALL, I2), names), null);
});

const XML = `<domain type='qemu'>
  <name>web</name>
  <uuid>24f03295-8024-4578-8012-e25fd27eff9b</uuid>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS.fd'>/var/lib/libvirt/qemu/nvram/web_VARS.fd</nvram>
    <kernel>/boot/vmlinuz-web</kernel>
    <initrd>/boot/initrd-web</initrd>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/images/web.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
`;
const SOURCE_FORM = XML.replace(/<nvram template='([^']+)'>([^<]+)<\/nvram>/, "<nvram template='$1' type='file'>\n      <source file='$2'/>\n    </nvram>");

test("boot paths are read in both nvram forms", () => {
    const boot = { loader: "/usr/share/OVMF/OVMF_CODE.fd", nvram: "/var/lib/libvirt/qemu/nvram/web_VARS.fd", kernel: "/boot/vmlinuz-web", initrd: "/boot/initrd-web" };
    assert.deepEqual(parseDomainXml(XML).boot, boot);
    assert.deepEqual(parseDomainXml(SOURCE_FORM).boot, boot);
});

test("the adjusted config points at the new VM's copies, in the form the config has", () => {
    const boot = { nvram: "/r/new_VARS.fd", kernel: "/r/vmlinuz-web", initrd: "/r/initrd-web" };
    for (const xml of [XML, SOURCE_FORM]) {
        const adjusted = adjustDomainConfig(xml, { name: "new", restored: new Map([["vda", "/r/web.qcow2"]]), boot });
        assert.deepEqual(parseDomainXml(adjusted).boot, { loader: "/usr/share/OVMF/OVMF_CODE.fd", ...boot });
        assert.doesNotMatch(adjusted, /web_VARS|\/boot\//);
        assert.match(adjusted, /template="\/usr\/share\/OVMF\/OVMF_VARS\.fd"/);
    }
    assert.match(adjustDomainConfig(SOURCE_FORM, { name: "new", restored: new Map(), boot }), /<nvram template="[^"]+" type="file">\s*<source file="\/r\/new_VARS\.fd"><\/source>|<source file="\/r\/new_VARS\.fd"\/>/);
    // Without a copy the new VM gets no nvram path of the original.
    assert.doesNotMatch(adjustDomainConfig(XML, { name: "new", restored: new Map() }), /nvram/);
});

const config = parseDomainXml(XML);
const saved = new Set(["OVMF_CODE.fd.virtnbdbackup.0", "web_VARS.fd.virtnbdbackup.0", "web_VARS.fd.virtnbdbackup.1", "vmlinuz-web.virtnbdbackup.0"]);
const idents = ["virtnbdbackup.1", "virtnbdbackup.0"];

test("onto the original paths: free paths get the saved copy, existing files are kept", () => {
    const present = new Set(["/usr/share/OVMF/OVMF_CODE.fd"]);
    const plan = planBootFiles({ config, idents, names: saved, newVm: null, taken: new Set(), exists: f => present.has(f) });
    assert.deepEqual(plan.steps.map(s => [s.kind, s.action, s.saved, s.target]), [
        ["loader", "exists", "OVMF_CODE.fd.virtnbdbackup.0", null],
        ["nvram", "copy", "web_VARS.fd.virtnbdbackup.1", "/var/lib/libvirt/qemu/nvram/web_VARS.fd"],
        ["kernel", "copy", "vmlinuz-web.virtnbdbackup.0", "/boot/vmlinuz-web"],
        ["initrd", "missing", null, null],
    ]);
    assert.deepEqual(plan.configBoot, {});
    assert.equal(plan.warnings.length, 1);
    assert.match(plan.warnings[0]!, /initrd \/boot\/initrd-web: not on this host/);
});

test("for a new VM: own NVRAM, kernel in the output folder; the loader only when missing on this host", () => {
    const base = { config, idents, names: saved, newVm: { name: "copy", output: "/r" }, taken: new Set(["web.qcow2"]) };
    let plan = planBootFiles({ ...base, exists: f => f === "/usr/share/OVMF/OVMF_CODE.fd" });
    assert.deepEqual(plan.configBoot, { nvram: "/r/copy_VARS.fd", kernel: "/r/vmlinuz-web" });
    assert.equal(plan.steps.find(s => s.kind === "nvram")!.saved, "web_VARS.fd.virtnbdbackup.1");
    assert.equal(plan.steps.find(s => s.kind === "loader")!.action, "exists");
    assert.match(plan.warnings.join("\n"), /initrd .*cannot boot/);
    plan = planBootFiles({ ...base, exists: () => false });
    assert.deepEqual(plan.configBoot, { loader: "/r/OVMF_CODE.fd", nvram: "/r/copy_VARS.fd", kernel: "/r/vmlinuz-web" });
    // A name taken by a disk is not reused.
    plan = planBootFiles({ ...base, taken: new Set(["copy_VARS.fd"]), exists: () => true });
    assert.equal(plan.configBoot.nvram, "/r/nvram.copy_VARS.fd");
    // No saved NVRAM: none is named (libvirt makes a fresh one), with a warning.
    plan = planBootFiles({ ...base, names: new Set(), exists: () => true });
    assert.deepEqual(plan.configBoot, {});
    assert.match(plan.warnings.join("\n"), /nvram .*fresh one/);
});
