#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
// Extracts the translatable strings into po/virtnbdbackup.pot:
//  - calls in src/ (parsed with the TypeScript compiler, so quoting and escapes are exact):
//    _("…"), N_("…"), cockpit.gettext([ctx,] "…"), cockpit.noop("…"), cockpit.ngettext([ctx,] "one", "many", n)
//  - manifest.json: menu/tools labels and search keywords, which the Cockpit shell translates
//    with this package's po.js.
// `node tools/pot.mjs --check` prints the strings instead of writing the file.
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import gettextParser from "gettext-parser";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

/** Source files under dir with an extension the UI uses. */
function sourceFiles(dir) {
    const found = [];
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory())
            found.push(...sourceFiles(full));
        else if (/\.(tsx?|jsx?)$/.test(entry.name) && !entry.name.endsWith(".d.ts"))
            found.push(full);
    }
    return found.sort();
}

/** "gettext", "ngettext" or null for a call's callee. */
function gettextKind(callee) {
    if (ts.isIdentifier(callee)) {
        if (callee.text === "_" || callee.text === "N_")
            return "gettext";
        return null;
    }
    if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) &&
            callee.expression.text === "cockpit") {
        const name = callee.name.text;
        if (name === "gettext" || name === "noop")
            return "gettext";
        if (name === "ngettext")
            return "ngettext";
    }
    return null;
}

function literal(node) {
    return node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : null;
}

/** Messages of one call: { context, msgid, plural } or null (with a warning) when not literal. */
function messageOf(kind, call) {
    const args = call.arguments;
    if (kind === "gettext") {
        const strings = args.map(literal);
        if (strings.length === 1 && strings[0] !== null)
            return { context: "", msgid: strings[0] };
        if (strings.length === 2 && strings.every(s => s !== null))
            return { context: strings[0], msgid: strings[1] };
        return null;
    }
    // ngettext(one, many, n) or ngettext(context, one, many, n)
    const strings = args.slice(0, -1).map(literal);
    if (strings.length === 2 && strings.every(s => s !== null))
        return { context: "", msgid: strings[0], plural: strings[1] };
    if (strings.length === 3 && strings.every(s => s !== null))
        return { context: strings[0], msgid: strings[1], plural: strings[2] };
    return null;
}

export function extractFromSource(file, text) {
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true,
                                       file.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
    const found = [];
    const visit = node => {
        if (ts.isCallExpression(node)) {
            const kind = gettextKind(node.expression);
            if (kind) {
                const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
                const message = messageOf(kind, node);
                if (message)
                    found.push({ ...message, reference: `${file}:${line}` });
                else
                    console.warn(`${file}:${line}: translatable call without literal strings, skipped`);
            }
        }
        ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
}

export function extractFromManifest(file, manifest) {
    const found = [];
    for (const section of ["menu", "tools", "dashboard"]) {
        for (const item of Object.values(manifest[section] ?? {})) {
            if (item.label)
                found.push({ context: "", msgid: item.label, reference: `${file}:${section}` });
            for (const keyword of item.keywords ?? []) {
                for (const match of keyword.matches ?? [])
                    found.push({ context: "", msgid: match, reference: `${file}:keywords` });
            }
        }
    }
    return found;
}

/** All messages of the package, merged by (context, msgid), references kept in order. */
export function extractAll(base = root) {
    const messages = [];
    for (const file of sourceFiles(path.join(base, "src")))
        messages.push(...extractFromSource(path.relative(base, file), fs.readFileSync(file, "utf8")));
    const manifest = JSON.parse(fs.readFileSync(path.join(base, "manifest.json"), "utf8"));
    messages.push(...extractFromManifest("manifest.json", manifest));

    const merged = new Map();
    for (const m of messages) {
        const key = `${m.context}\u0004${m.msgid}`;
        const seen = merged.get(key);
        if (seen) {
            seen.references.push(m.reference);
            seen.plural ??= m.plural;
        } else {
            merged.set(key, { context: m.context, msgid: m.msgid, plural: m.plural, references: [m.reference] });
        }
    }
    return [...merged.values()];
}

export function toPot(messages) {
    const translations = { "": { "": { msgid: "", msgstr: [""] } } };
    for (const m of messages) {
        translations[m.context] ??= {};
        const entry = { msgid: m.msgid, msgstr: m.plural ? ["", ""] : [""], comments: { reference: m.references.join("\n") } };
        if (m.context)
            entry.msgctxt = m.context;
        if (m.plural)
            entry.msgid_plural = m.plural;
        translations[m.context][m.msgid] = entry;
    }
    return gettextParser.po.compile({
        charset: "utf-8",
        headers: {
            "Project-Id-Version": "cockpit-virtnbdbackup",
            "Report-Msgid-Bugs-To": "",
            "MIME-Version": "1.0",
            "Content-Type": "text/plain; charset=UTF-8",
            "Content-Transfer-Encoding": "8bit",
            "Plural-Forms": "nplurals=INTEGER; plural=EXPRESSION;",
        },
        translations,
    }, { foldLength: 0, sort: false }).toString() + "\n";
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
    const messages = extractAll();
    if (process.argv.includes("--check")) {
        for (const m of messages)
            console.log(m.context ? `${m.context} | ${m.msgid}` : m.msgid);
    } else {
        const out = path.join(root, "po", "virtnbdbackup.pot");
        fs.mkdirSync(path.dirname(out), { recursive: true });
        fs.writeFileSync(out, toPot(messages));
        console.log(`${out}: ${messages.length} messages`);
    }
}
