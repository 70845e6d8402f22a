// SPDX-License-Identifier: GPL-3.0-or-later
// The saved domain XML: the adjusted copy for the restored VM, qemu-img options, output names. (Reading
// it, the one domain model: test/unit/libvirt/domain-xml.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDomainXml } from "../../../helper/libvirt/domain-xml.ts";
import { adjustDomainConfig, restoredFileName } from "../../../helper/restore/domain-config.ts";

const XML = `<domain type='qemu' id='4'>
  <name>web</name>
  <uuid>24f03295-8024-4578-8012-e25fd27eff9b</uuid>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>
    <nvram>/var/lib/libvirt/qemu/nvram/web_VARS.fd</nvram>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/images/web-overlay.qcow2' index='3'/>
      <backingStore type='file' index='4'>
        <format type='qcow2'/>
        <source file='/images/web-base.qcow2'/>
        <backingStore/>
      </backingStore>
      <target dev='vda' bus='virtio'/>
      <alias name='virtio-disk0'/>
    </disk>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source pool='default' volume='data.qcow2'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/images/scratch.img'/>
      <target dev='vdc' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/iso/install.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <interface type='network'><source network='default'/></interface>
  </devices>
</domain>`;

test("a saved config reads as the domain model does: name, uuid, disks with their backing chain", () => {
    const c = parseDomainXml(XML, "vmconfig.virtnbdbackup.0.xml");
    assert.equal(c.name, "web");
    assert.equal(c.uuid, "24f03295-8024-4578-8012-e25fd27eff9b");
    assert.deepEqual(c.disks.map(d => [d.target, d.device, d.type, d.driverType, d.path, d.backingStorePresent]), [
        ["vda", "disk", "file", "qcow2", "/images/web-overlay.qcow2", true],
        ["vdb", "disk", "volume", "qcow2", "default/data.qcow2", false],
        ["vdc", "disk", "file", "raw", "/images/scratch.img", false],
        ["sda", "cdrom", "file", "raw", "/iso/install.iso", false],
    ]);
});

test("restored disks are named after the source file, else after the dev", () => {
    const c = parseDomainXml(XML);
    assert.equal(restoredFileName(c.disks[0], "vda"), "web-overlay.qcow2");
    assert.equal(restoredFileName(c.disks[1], "vdb"), "vdb");
    assert.equal(restoredFileName(undefined, "vdx"), "vdx");
});

test("the adjusted config has a new name, no uuid, restored paths, no backing chain, only restored disks", () => {
    const xml = adjustDomainConfig(XML, { name: "restore_web", restored: new Map([["vda", "/r/web-overlay.qcow2"], ["vdb", "/r/vdb"]]) });
    const c = parseDomainXml(xml);
    assert.equal(c.name, "restore_web");
    assert.equal(c.uuid, "");
    assert.deepEqual(c.disks.map(d => [d.target, d.type, d.path, d.backingStorePresent]), [
        ["vda", "file", "/r/web-overlay.qcow2", false],
        ["vdb", "file", "/r/vdb", false],
    ]);
    assert.doesNotMatch(xml, /backingStore|web-base|virtio-disk0|nvram|id="4"|install\.iso/);
    assert.match(xml, /<loader readonly="yes" type="pflash">\/usr\/share\/OVMF\/OVMF_CODE\.fd<\/loader>/);
    assert.match(xml, /<interface type="network">/);
});

test("a started-from-backup VM's config: every disk qcow2, no MAC, its own console file", () => {
    const xml = adjustDomainConfig(XML.replace("<interface type='network'>", "<interface type='network'><mac address='52:54:00:aa:bb:cc'/>")
            .replace("</devices>", "<serial type='file'><source path='/var/log/web.log'/><target port='0'/></serial></devices>"), {
        name: "web-now", restored: new Map([["vda", "/o/web-now.vda.qcow2"], ["vdc", "/o/web-now.vdc.qcow2"]]),
        diskFormat: "qcow2", newMacs: true, charDevFile: f => `/o/web-now.${f.split("/").pop()}`,
    });
    const c = parseDomainXml(xml);
    assert.deepEqual(c.disks.map(d => [d.target, d.driverType, d.path]), [["vda", "qcow2", "/o/web-now.vda.qcow2"], ["vdc", "qcow2", "/o/web-now.vdc.qcow2"]]);
    assert.doesNotMatch(xml, /52:54:00:aa:bb:cc|<mac/);
    assert.match(xml, /<interface type="network"><source network="default"><\/source><\/interface>|<interface type="network"><source network="default"\/><\/interface>/);
    assert.match(xml, /<serial type="file"><source path="\/o\/web-now\.web\.log"/);
    assert.doesNotMatch(xml, /\/var\/log\/web\.log/);
});
