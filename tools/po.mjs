// Compiles po/*.po into dist/po.<lang>.js in the form cockpit.js expects (cockpit.locale(...)).
import fs from "node:fs";
import path from "node:path";
import gettextParser from "gettext-parser";

export function buildTranslations(poDir, outDir) {
    if (!fs.existsSync(poDir))
        return;
    for (const file of fs.readdirSync(poDir)) {
        if (!file.endsWith(".po"))
            continue;
        const lang = path.basename(file, ".po");
        const parsed = gettextParser.po.parse(fs.readFileSync(path.join(poDir, file)));
        const header = parsed.headers ?? {};
        const pluralForms = header["Plural-Forms"] || header["plural-forms"] || "nplurals=2; plural=(n != 1);";
        const plural = /plural=([^;]+)/.exec(pluralForms)?.[1] ?? "(n != 1)";
        const messages = {
            "": { language: lang, "plural-forms": `__PLURAL__` },
        };
        for (const [context, entries] of Object.entries(parsed.translations)) {
            for (const [msgid, entry] of Object.entries(entries)) {
                if (!msgid || !entry.msgstr.some(s => s) || entry.comments?.flag?.includes("fuzzy"))
                    continue;
                const key = context ? `${context}\u0004${msgid}` : msgid;
                messages[key] = [entry.msgid_plural ?? null, ...entry.msgstr];
            }
        }
        const json = JSON.stringify(messages, null, 1)
            .replace('"__PLURAL__"', `function(n) { var plural = ${plural}; return Number(plural); }`);
        fs.writeFileSync(path.join(outDir, `po.${lang}.js`), `cockpit.locale(${json});\n`);
    }
}
