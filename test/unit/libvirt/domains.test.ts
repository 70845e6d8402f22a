// SPDX-License-Identifier: GPL-3.0-or-later
// Domain queries through real virsh against libvirt's built-in test driver (test:///default: a fixed
// host with one running domain "test", served inside the virsh process, no daemon needed).
import assert from "node:assert/strict";
import { test } from "node:test";
import { domainState, getDomain, listDomains } from "../../../helper/libvirt/domains.ts";
import { LibvirtError, virshXml } from "../../../helper/libvirt/virsh.ts";
import { attr } from "../../../helper/libvirt/xml.ts";

const URI = "test:///default";

test("listDomains: name, uuid, state, persistence, disks with sizes", async () => {
    assert.deepEqual(await listDomains(URI), [{
        name: "test",
        uuid: "6695eb01-f6a4-8304-79aa-97f2502e193f",
        state: "running",
        persistent: true,
        disks: [{ target: "vda", device: "disk", format: null, path: "/guest/diskimage1",
                  capacity: 1099506450432, allocation: 1099511627776 }],
    }]);
});

test("getDomain and domainState", async () => {
    const cfg = await getDomain("test", URI);
    assert.equal(cfg.type, "test");
    assert.deepEqual(cfg.disks.map(d => [d.target, d.path]), [["vda", "/guest/diskimage1"]]);
    assert.equal(await domainState("test", URI), "running");
});

test("an unknown domain is a LibvirtError 'no-domain' naming it", async () => {
    await assert.rejects(getDomain("vnbt-no-such-vm", URI), (e: unknown) =>
        e instanceof LibvirtError && e.code === "no-domain" && /vnbt-no-such-vm/.test(e.message) && !e.message.includes("\n"));
    await assert.rejects(domainState("vnbt-no-such-vm", URI), (e: unknown) => e instanceof LibvirtError && e.code === "no-domain");
});

test("a domain name that looks like an option is still a name", async () => {
    await assert.rejects(getDomain("--help", URI), (e: unknown) => e instanceof LibvirtError && e.code === "no-domain");
});

test("virshXml parses the document and checks its root", async () => {
    const domain = await virshXml(["dumpxml", "test"], "domain", { uri: URI });
    assert.equal(attr(domain, "type"), "test");
    await assert.rejects(virshXml(["dumpxml", "test"], "network", { uri: URI }), /not a <network> document/);
});
