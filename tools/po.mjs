// SPDX-License-Identifier: GPL-3.0-or-later
// Compiles po/*.po into dist/po.<lang>.js in the form cockpit.js expects: one cockpit.locale({...})
// call whose "" entry holds the language and a plural-forms function, and whose other keys are
// msgids ("context\u0004msgid" with a context) mapping to [msgid_plural or null, ...msgstr].
// Untranslated and fuzzy entries are left out, so cockpit.gettext falls back to the English text.
import fs from "node:fs";
import path from "node:path";
import gettextParser from "gettext-parser";

const RTL = new Set(["ar", "fa", "he", "ur"]);

/** The C expression of a Plural-Forms header, checked to be plain arithmetic on n before it becomes JS. */
export function pluralExpression(pluralForms) {
    const expression = /plural\s*=\s*([^;]+)/.exec(pluralForms ?? "")?.[1]?.trim() ?? "(n != 1)";
    if (!/^[n0-9\s()?:<>=!&|%+-]+$/.test(expression))
        throw new Error(`unsafe Plural-Forms expression: ${expression}`);
    return expression;
}

export function compilePo(lang, poText) {
    const parsed = gettextParser.po.parse(poText);
    const headers = parsed.headers ?? {};
    const plural = pluralExpression(headers["Plural-Forms"] ?? headers["plural-forms"]);
    const messages = {
        "": {
            language: lang,
            "language-direction": RTL.has(lang.split("_")[0]) ? "rtl" : "ltr",
            "plural-forms": "__PLURAL__",
        },
    };
    for (const [context, entries] of Object.entries(parsed.translations)) {
        for (const [msgid, entry] of Object.entries(entries)) {
            if (!msgid || !entry.msgstr.some(s => s) || String(entry.comments?.flag ?? "").includes("fuzzy"))
                continue;
            const key = context ? `${context}\u0004${msgid}` : msgid;
            messages[key] = [entry.msgid_plural ?? null, ...entry.msgstr];
        }
    }
    const json = JSON.stringify(messages, null, 1)
        .replace('"__PLURAL__"', () => `function(n) { return Number(${plural}); }`);
    return `cockpit.locale(${json});\n`;
}

export function buildTranslations(poDir, outDir) {
    if (!fs.existsSync(poDir))
        return;
    for (const file of fs.readdirSync(poDir)) {
        if (!file.endsWith(".po"))
            continue;
        const lang = path.basename(file, ".po");
        fs.writeFileSync(path.join(outDir, `po.${lang}.js`), compilePo(lang, fs.readFileSync(path.join(poDir, file))));
    }
}
