// SPDX-License-Identifier: GPL-3.0-or-later
// Domain XML parsing and backup/checkpoint XML generation (pure), checked by parsing the output back
// and by libvirt's own schemas (virt-xml-validate).
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { buildCheckpointXml, buildPullBackupXml, parseCheckpointSizes, parseDomainXml } from "../../../helper/libvirt/domain-xml.ts";
import { attr, child, children, parseRoot, text } from "../../../helper/libvirt/xml.ts";
import { run } from "../../lib/exec.ts";

// Shaped like `virsh dumpxml` of a running UEFI guest with a mix of disks.
const DOMAIN_XML = `<domain type='kvm' id='7'>
  <name>web &amp; db</name>
  <uuid>0f8fad5b-d9cb-469f-a165-70867728950e</uuid>
  <memory unit='KiB'>1048576</memory>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/var/lib/libvirt/qemu/nvram/web_VARS.fd</nvram>
    <boot dev='hd'/>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source file='/var/lib/libvirt/images/web.qcow2' index='3'/>
      <backingStore/>
      <target dev='vda' bus='virtio'/>
      <alias name='virtio-disk0'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/data.overlay' index='2'/>
      <backingStore type='file' index='4'>
        <format type='qcow2'/>
        <source file='/var/lib/libvirt/images/data.qcow2'/>
        <backingStore/>
      </backingStore>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='block' device='disk'>
      <driver name='qemu' type='raw' cache='none'/>
      <source dev='/dev/vg0/shared'/>
      <target dev='sda' bus='scsi'/>
      <shareable/>
    </disk>
    <disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='rbd' name='pool/image'>
        <host name='ceph1' port='6789'/>
      </source>
      <target dev='vdc' bus='virtio'/>
    </disk>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source pool='default' volume='vol1.qcow2'/>
      <target dev='vdd' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <target dev='sdb' bus='sata'/>
      <readonly/>
    </disk>
    <disk type='file' device='floppy'>
      <source file='/tmp/boot.img'/>
      <target dev='fda'/>
    </disk>
    <interface type='network'><source network='default'/></interface>
  </devices>
</domain>
`;

describe("parseDomainXml", () => {
    const cfg = parseDomainXml(DOMAIN_XML);

    test("domain fields, with entities decoded", () => {
        assert.equal(cfg.name, "web & db");
        assert.equal(cfg.uuid, "0f8fad5b-d9cb-469f-a165-70867728950e");
        assert.equal(cfg.type, "kvm");
        assert.deepEqual(cfg.boot, { loader: "/usr/share/OVMF/OVMF_CODE_4M.fd", nvram: "/var/lib/libvirt/qemu/nvram/web_VARS.fd" });
    });

    test("every disk, in document order", () => {
        assert.deepEqual(cfg.disks.map(d => d.target), ["vda", "vdb", "sda", "vdc", "vdd", "sdb", "fda"]);
        assert.deepEqual(cfg.disks[0], {
            target: "vda", device: "disk", type: "file", driverType: "qcow2",
            path: "/var/lib/libvirt/images/web.qcow2", bus: "virtio",
            readonly: false, shareable: false, backingStorePresent: false,
        });
    });

    test("overlay with a backing image", () => {
        const vdb = cfg.disks[1]!;
        assert.equal(vdb.path, "/var/lib/libvirt/images/data.overlay");
        assert.equal(vdb.backingStorePresent, true);
    });

    test("block, network, volume, cdrom and floppy sources", () => {
        const [, , sda, vdc, vdd, sdb, fda] = cfg.disks;
        assert.deepEqual([sda!.type, sda!.path, sda!.driverType, sda!.bus, sda!.shareable], ["block", "/dev/vg0/shared", "raw", "scsi", true]);
        assert.deepEqual([vdc!.type, vdc!.path], ["network", "pool/image"]);
        assert.deepEqual([vdd!.type, vdd!.path], ["volume", "default/vol1.qcow2"]);
        assert.deepEqual([sdb!.device, sdb!.path, sdb!.readonly, sdb!.bus], ["cdrom", null, true, "sata"]);
        assert.deepEqual([fda!.device, fda!.path, fda!.driverType, fda!.bus], ["floppy", "/tmp/boot.img", null, null]);
    });

    test("direct kernel boot and the newer nvram form", () => {
        const c = parseDomainXml(`<domain type='qemu'><name>k</name><uuid>u</uuid><os>
            <type>hvm</type><kernel>/boot/vmlinuz</kernel><initrd>/boot/initrd.img</initrd>
            <nvram type='file'><source file='/var/lib/nvram/k.fd'/></nvram></os></domain>`);
        assert.deepEqual([c.boot, c.disks], [{ kernel: "/boot/vmlinuz", initrd: "/boot/initrd.img", nvram: "/var/lib/nvram/k.fd" }, []]);
    });

    test("numeric-looking names stay strings", () => {
        assert.equal(parseDomainXml("<domain type='qemu'><name>007</name></domain>").name, "007");
    });

    test("an unknown source type does not make the domain unreadable", () => {
        const c = parseDomainXml(`<domain type='qemu'><name>n</name><devices>
            <disk type='future' device='disk'><target dev='vda'/></disk></devices></domain>`);
        assert.equal(c.disks[0]!.type, "other");
    });

    test("malformed documents are rejected", () => {
        assert.throws(() => parseDomainXml("<network><name>x</name></network>"), /not a <domain>/);
        assert.throws(() => parseDomainXml("<domain type='qemu'></domain>"), /domain XML: the domain has no name/);
        assert.throws(() => parseDomainXml("<domain><uuid>x</uuid></domain>", "vmconfig.x.xml"), /vmconfig\.x\.xml: the domain has no name/);
        assert.throws(() => parseDomainXml("<domain><name>x</name><devices><disk type='file'/></devices></domain>"), /without <target/);
    });
});

describe("buildPullBackupXml", () => {
    test("full backup: server socket, included disks with scratch files, excluded disk", () => {
        const xml = buildPullBackupXml({
            socketPath: "/var/tmp/vnb's & <sock>",
            disks: [
                { target: "vda", backup: true, scratchFile: "/var/tmp/s.vda" },
                { target: "vdb", backup: false },
                { target: "vdc", backup: true },
            ],
        });
        const root = parseRoot(xml, "domainbackup");
        assert.equal(attr(root, "mode"), "pull");
        assert.equal(child(root, "incremental"), null);
        const server = child(root, "server");
        assert.equal(attr(server, "transport"), "unix");
        assert.equal(attr(server, "socket"), "/var/tmp/vnb's & <sock>");
        const disks = children(child(root, "disks")!, "disk");
        assert.deepEqual(disks.map(d => [attr(d, "name"), attr(d, "backup"), attr(d, "exportname"), attr(d, "type")]),
                         [["vda", "yes", "vda", "file"], ["vdb", "no", null, null], ["vdc", "yes", "vdc", "file"]]);
        assert.equal(attr(child(disks[0]!, "scratch"), "file"), "/var/tmp/s.vda");
    });

    test("incremental backup names its checkpoint", () => {
        const xml = buildPullBackupXml({ socketPath: "/run/x.sock", incremental: "virtnbdbackup.3",
                                         disks: [{ target: "vda", backup: true, scratchFile: "/run/s" }] });
        assert.equal(text(child(parseRoot(xml, "domainbackup"), "incremental")), "virtnbdbackup.3");
    });

    test("invalid input is refused", () => {
        const disk = { target: "vda", backup: true };
        assert.throws(() => buildPullBackupXml({ socketPath: "x.sock", disks: [disk] }), /absolute/);
        assert.throws(() => buildPullBackupXml({ socketPath: "/x", disks: [] }), /no disks/);
        assert.throws(() => buildPullBackupXml({ socketPath: "/x", disks: [disk, disk] }), /twice/);
        assert.throws(() => buildPullBackupXml({ socketPath: "/x", disks: [{ target: "v'a", backup: true }] }), /invalid disk target/);
        assert.throws(() => buildPullBackupXml({ socketPath: "/x\u0001", disks: [disk] }), /control/);
        assert.throws(() => buildPullBackupXml({ socketPath: "/x", incremental: "a/b", disks: [disk] }), /invalid checkpoint/);
        assert.throws(() => buildPullBackupXml({ socketPath: "/x", disks: [{ ...disk, scratchFile: "rel" }] }), /absolute/);
    });
});

describe("buildCheckpointXml", () => {
    test("name, description and a bitmap per included disk", () => {
        const xml = buildCheckpointXml({ name: "virtnbdbackup.0", description: "Full <backup> & more",
                                         disks: [{ target: "vda", checkpoint: true }, { target: "vdb", checkpoint: false }] });
        const root = parseRoot(xml, "domaincheckpoint");
        assert.equal(text(child(root, "name")), "virtnbdbackup.0");
        assert.equal(text(child(root, "description")), "Full <backup> & more");
        assert.deepEqual(children(child(root, "disks")!, "disk").map(d => [attr(d, "name"), attr(d, "checkpoint")]),
                         [["vda", "bitmap"], ["vdb", "no"]]);
    });

    test("invalid input is refused", () => {
        assert.throws(() => buildCheckpointXml({ name: "", disks: [{ target: "vda", checkpoint: true }] }), /invalid checkpoint/);
        assert.throws(() => buildCheckpointXml({ name: "a", description: "\u0007", disks: [{ target: "vda", checkpoint: true }] }), /control/);
    });
});

describe("libvirt's schemas accept what we generate", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-xml-"));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const validate = async (name: string, kind: string, xml: string) => {
        const file = path.join(dir, name);
        fs.writeFileSync(file, xml);
        const r = await run("virt-xml-validate", [file, kind]);
        assert.equal(r.code, 0, `${kind} rejected:\n${xml}\n${r.stderr}${r.stdout}`);
    };

    test("domainbackup (full and incremental)", async () => {
        const disks = [{ target: "vda", backup: true, scratchFile: "/var/tmp/s.vda" }, { target: "vdb", backup: false },
                       { target: "vdc", backup: true }];
        await validate("full.xml", "domainbackup", buildPullBackupXml({ socketPath: "/var/tmp/a&b.sock", disks }));
        await validate("inc.xml", "domainbackup", buildPullBackupXml({ socketPath: "/var/tmp/a.sock", incremental: "virtnbdbackup.0", disks }));
    });

    test("domaincheckpoint", async () => {
        await validate("cp.xml", "domaincheckpoint", buildCheckpointXml({
            name: "virtnbdbackup.1", description: "x & y", disks: [{ target: "vda", checkpoint: true }, { target: "vdb", checkpoint: false }],
        }));
    });

    test("the validator does reject a broken document", async () => {
        const file = path.join(dir, "bad.xml");
        fs.writeFileSync(file, "<domainbackup mode='pull'><server transport='carrier-pigeon'/></domainbackup>");
        const r = await run("virt-xml-validate", [file, "domainbackup"]);
        // Exit 127 would be a missing xmllint (package libxml2-utils), not a rejection.
        assert.match(r.stderr + r.stdout, /fails to validate/);
    });
});

test("parseCheckpointSizes: libvirt's per-disk estimate of the changes, disks without one left out", () => {
    const xml = `<domaincheckpoint>
  <name>virtnbdbackup.2</name>
  <creationTime>1795696850</creationTime>
  <disks>
    <disk name='vda' checkpoint='bitmap' bitmap='virtnbdbackup.2' size='2097152'/>
    <disk name='vdb' checkpoint='bitmap' bitmap='virtnbdbackup.2' size='0'/>
    <disk name='sda' checkpoint='no'/>
  </disks>
</domaincheckpoint>`;
    assert.deepEqual([...parseCheckpointSizes(xml)], [["vda", 2097152], ["vdb", 0]]);
    assert.deepEqual([...parseCheckpointSizes("<domaincheckpoint><name>c</name></domaincheckpoint>")], []);
    assert.throws(() => parseCheckpointSizes("<domaincheckpoint><disks><disk name='vda' size='1e3'/></disks></domaincheckpoint>"), /not a byte count/);
    assert.throws(() => parseCheckpointSizes("<domain/>"), /domaincheckpoint/);
});
