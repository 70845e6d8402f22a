// SPDX-License-Identifier: GPL-3.0-or-later
// The adjusted copy of a saved domain XML (vmconfig.<ident>.xml) that a restore writes for -c/-D and a
// start from backup defines: parsed with order preserved so the rewrite keeps everything else. What the
// document says is read by the one model, libvirt/domain-xml.ts.
import path from "node:path";
import { XMLBuilder, XMLParser } from "fast-xml-parser";
import { BOOT_KINDS, type BootKind, type DiskConfig } from "../libvirt/domain-xml.ts";

const XML_OPTIONS = {
    ignoreAttributes: false,
    preserveOrder: true,
    attributeNamePrefix: "@_",
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    commentPropName: "#comment",
    processEntities: true,
} as const;

/** A node of fast-xml-parser's order-preserving tree: one tag key (or #text/#comment) and ":@" attributes. */
type XmlNode = Record<string, unknown>;

function tagOf(node: XmlNode): string | undefined {
    return Object.keys(node).find(k => k !== ":@");
}

function children(node: XmlNode): XmlNode[] {
    const tag = tagOf(node);
    const value = tag ? node[tag] : undefined;
    return Array.isArray(value) ? value as XmlNode[] : [];
}

function attr(node: XmlNode, name: string): string | undefined {
    const attrs = node[":@"] as Record<string, string> | undefined;
    return attrs?.[`@_${name}`];
}

function setAttr(node: XmlNode, name: string, value: string): void {
    const attrs = (node[":@"] ?? {}) as Record<string, string>;
    attrs[`@_${name}`] = value;
    node[":@"] = attrs;
}

function deleteAttr(node: XmlNode, name: string): void {
    const attrs = node[":@"] as Record<string, string> | undefined;
    if (attrs)
        delete attrs[`@_${name}`];
}

function child(node: XmlNode, tag: string): XmlNode | undefined {
    return children(node).find(c => tagOf(c) === tag);
}

function textOf(node: XmlNode | undefined): string {
    if (!node)
        return "";
    return children(node).map(c => typeof c["#text"] === "string" ? c["#text"] : "").join("").trim();
}

function parseTree(xml: string): XmlNode[] {
    return new XMLParser(XML_OPTIONS).parse(xml) as XmlNode[];
}

function domainNode(tree: XmlNode[], what: string): XmlNode {
    const domain = tree.find(n => tagOf(n) === "domain");
    if (!domain)
        throw new Error(`${what}: no <domain> element`);
    return domain;
}

/** The target dev and device of a <disk> element; null without a target. */
function diskOf(node: XmlNode): { dev: string; device: string } | null {
    const target = child(node, "target");
    const dev = target ? attr(target, "dev") : undefined;
    return dev ? { dev, device: attr(node, "device") ?? "disk" } : null;
}

/** Where a restored disk goes: the source file's base name (as the other tool does), else the dev. */
export function restoredFileName(disk: DiskConfig | undefined, dev: string): string {
    const file = disk?.type === "file" ? disk.path : null;
    const base = file ? path.basename(file) : "";
    return base && base !== "." && base !== ".." ? base : dev;
}

export interface AdjustOptions {
    /** New domain name. */
    name: string;
    /** Restored disks: dev -> absolute path of the restored image. Other disks are dropped. */
    restored: Map<string, string>;
    /**
     * Boot files the new VM uses instead of the configured ones (copies in the output folder). Without
     * an nvram entry the <nvram> element is dropped (libvirt makes a fresh store from the template);
     * the other kinds stay as configured when absent.
     */
    boot?: Partial<Record<BootKind, string>>;
    /** Driver type of every kept disk (qcow2 overlays of a started-from-backup VM); default: as configured. */
    diskFormat?: string;
    /** Drop the interfaces' <mac> so libvirt makes new ones (a second VM beside the original on its networks). */
    newMacs?: boolean;
    /**
     * Where file-backed serial ports, consoles and channels of the new VM write instead of the original's
     * files (both VMs running would write into one file); default: as configured.
     */
    charDevFile?: (configured: string) => string;
}

/**
 * The domain XML for the restored VM: new name, no uuid (libvirt makes one), restored disks pointing at
 * their new images without stale backing chains, every other disk (excluded, not restored, cdrom,
 * floppy, lun) removed, no nvram path of the original VM, no live-only ids.
 */
export function adjustDomainConfig(xml: string, options: AdjustOptions): string {
    const tree = parseTree(xml);
    const domain = domainNode(tree, "domain XML");
    deleteAttr(domain, "id");
    const kids = children(domain);
    const uuidAt = kids.findIndex(n => tagOf(n) === "uuid");
    if (uuidAt >= 0)
        removeWithIndent(kids, uuidAt);
    const nameNode = child(domain, "name");
    if (!nameNode)
        throw new Error("domain XML: the domain has no name");
    nameNode.name = [{ "#text": options.name }];

    // The new VM must never share the original's NVRAM: it gets its own copy, or else none (libvirt
    // then creates a fresh one for the new name from the template).
    const os = child(domain, "os");
    if (os) {
        const osKids = children(os);
        for (const kind of BOOT_KINDS) {
            const at = osKids.findIndex(n => tagOf(n) === kind);
            if (at < 0)
                continue;
            const file = options.boot?.[kind];
            if (file !== undefined)
                pointBootAt(osKids[at], file);
            else if (kind === "nvram")
                removeWithIndent(osKids, at);
        }
    }

    const devices = child(domain, "devices");
    if (devices) {
        const list = children(devices);
        for (let i = list.length - 1; i >= 0; i--) {
            const node = list[i];
            if (tagOf(node) !== "disk")
                continue;
            const disk = diskOf(node);
            const target = disk ? options.restored.get(disk.dev) : undefined;
            if (!disk || !target || disk.device !== "disk") {
                removeWithIndent(list, i);
                continue;
            }
            pointDiskAt(node, target);
            if (options.diskFormat !== undefined)
                setDriverType(node, options.diskFormat);
        }
        const charDevFile = options.charDevFile;
        if (charDevFile) {
            for (const node of list.filter(n => ["serial", "console", "channel", "parallel"].includes(tagOf(n) ?? "") && attr(n, "type") === "file")) {
                const source = child(node, "source");
                const file = source ? attr(source, "path") : undefined;
                if (source && file)
                    setAttr(source, "path", charDevFile(file));
            }
        }
        if (options.newMacs) {
            for (const node of list.filter(n => tagOf(n) === "interface")) {
                const kids = children(node);
                const at = kids.findIndex(n => tagOf(n) === "mac");
                if (at >= 0)
                    removeWithIndent(kids, at);
            }
        }
    }
    return new XMLBuilder({ ...XML_OPTIONS, suppressEmptyNode: true }).build(tree) as string;
}

function pointDiskAt(disk: XmlNode, file: string): void {
    setAttr(disk, "type", "file");
    const kids = children(disk);
    for (let i = kids.length - 1; i >= 0; i--) {
        const tag = tagOf(kids[i]);
        if (tag === "backingStore" || tag === "alias")
            removeWithIndent(kids, i);
    }
    let source = child(disk, "source");
    if (!source) {
        source = { source: [] };
        kids.push(source);
    }
    // Only the file: pool/volume/index attributes of the old source no longer apply.
    source[":@"] = { "@_file": file };
}

function setDriverType(disk: XmlNode, format: string): void {
    let driver = child(disk, "driver");
    if (!driver) {
        driver = { driver: [], ":@": { "@_name": "qemu" } };
        children(disk).unshift(driver);
    }
    setAttr(driver, "type", format);
}

/** Sets a boot element's path, in the form it has: <source file=…/> inside, or its text. */
function pointBootAt(node: XmlNode, file: string): void {
    const kids = children(node);
    const source = child(node, "source");
    if (source && !textOf(node)) {
        setAttr(source, "file", file);
        return;
    }
    const tag = tagOf(node)!;
    node[tag] = [{ "#text": file }, ...kids.filter(k => tagOf(k) !== "#text")];
}

/** Removes kids[i] and the whitespace text node before it, so the output keeps its indentation. */
function removeWithIndent(kids: XmlNode[], i: number): void {
    const before = kids[i - 1];
    if (i > 0 && before && typeof before["#text"] === "string" && before["#text"].trim() === "")
        kids.splice(i - 1, 2);
    else
        kids.splice(i, 1);
}
