// SPDX-License-Identifier: GPL-3.0-or-later
// Small XML toolkit for libvirt documents: one parser configuration and safe building blocks.
import { XMLParser } from "fast-xml-parser";

/** A parsed element: attributes under "@name", text under "#text", children by tag name. */
export type XmlNode = { [key: string]: unknown };

const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@",
    textNodeName: "#text",
    // Names, UUIDs and sizes stay strings: "007" or "1e3" must not turn into numbers.
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
});

/** Parses an XML document; returns the root element named rootName, or throws when it is not there. */
export function parseRoot(xml: string, rootName: string): XmlNode {
    const doc = parser.parse(xml) as XmlNode;
    const root = doc[rootName];
    if (root === undefined)
        throw new Error(`not a <${rootName}> document`);
    return asNode(root);
}

/** A child element or attribute value seen as an element (a bare text element becomes {"#text": ...}). */
export function asNode(v: unknown): XmlNode {
    if (v !== null && typeof v === "object" && !Array.isArray(v))
        return v as XmlNode;
    if (typeof v === "string")
        return { "#text": v };
    return {};
}

/** Child elements with this tag, as a list whatever their count. */
export function children(node: XmlNode, tag: string): XmlNode[] {
    const v = node[tag];
    if (v === undefined)
        return [];
    return (Array.isArray(v) ? v : [v]).map(asNode);
}

/** The first child element with this tag, or null. */
export function child(node: XmlNode, tag: string): XmlNode | null {
    return children(node, tag)[0] ?? null;
}

/** An attribute's value, or null. */
export function attr(node: XmlNode | null, name: string): string | null {
    const v = node?.[`@${name}`];
    return typeof v === "string" ? v : null;
}

/** The text content of an element (trimmed), or null when empty. */
export function text(node: XmlNode | null): string | null {
    const v = node?.["#text"];
    return typeof v === "string" && v !== "" ? v : null;
}

/** Escapes text for use in element content and in quoted attribute values. */
export function escapeXml(s: string): string {
    return s.replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** Rejects values XML 1.0 cannot carry at all (control characters other than tab/newline). */
export function assertXmlText(what: string, s: string): void {
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(s))
        throw new Error(`${what} contains control characters`);
}
