// SPDX-License-Identifier: GPL-3.0-or-later
// Every UI string is extracted, translated to German, and compiled into what cockpit.locale() takes.
import { it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
// @ts-expect-error plain JS build tools without type declarations
import { extractAll, extractFromSource } from "../../../tools/pot.mjs";
// @ts-expect-error plain JS build tools without type declarations
import { compilePo, pluralExpression } from "../../../tools/po.mjs";

const root = path.resolve(import.meta.dirname, "../../..");
type Message = { context: string; msgid: string; plural?: string };

/** Runs a compiled po.<lang>.js and returns what it passed to cockpit.locale(). */
function loadLocale(script: string): Record<string, unknown> {
    let locale: Record<string, unknown> = {};
    vm.runInNewContext(script, { cockpit: { locale: (l: Record<string, unknown>) => { locale = l } } });
    return locale;
}

it("extracts gettext calls in all their forms, and only literal ones", () => {
    const found = extractFromSource("x.tsx", `
        const _ = cockpit.gettext;
        _("Plain"); cockpit.gettext("ctx", "With context"); N_('Single "quoted"');
        cockpit.noop(\`Template\`); cockpit.ngettext("$0 disk", "$0 disks", n);
        cockpit.ngettext("ctx", "one", "many", n); _(variable); other("Not this");
        <b>{_("In JSX")}</b>;`) as Message[];
    assert.deepEqual(found.map(({ context, msgid, plural }) => ({ context, msgid, plural })), [
        { context: "", msgid: "Plain", plural: undefined },
        { context: "ctx", msgid: "With context", plural: undefined },
        { context: "", msgid: 'Single "quoted"', plural: undefined },
        { context: "", msgid: "Template", plural: undefined },
        { context: "", msgid: "$0 disk", plural: "$0 disks" },
        { context: "ctx", msgid: "one", plural: "many" },
        { context: "", msgid: "In JSX", plural: undefined },
    ]);
});

it("de.po translates every string of the UI and the manifest", () => {
    const messages = extractAll(root) as Message[];
    const ids = messages.map(m => m.msgid);
    assert.ok(ids.includes("Virtual machine backups"), "manifest label is extracted");
    assert.ok(ids.includes("Administrative access required"), "UI strings are extracted");

    // Checked on the compiled po.de.js, which leaves out untranslated and fuzzy entries.
    const de = loadLocale(compilePo("de", fs.readFileSync(path.join(root, "po/de.po"))));
    const missing = messages.filter(m => !de[m.context ? `${m.context}\u0004${m.msgid}` : m.msgid]);
    assert.deepEqual(missing.map(m => m.msgid), []);
});

it("compiles a po file into a cockpit.locale() call with working plural forms", () => {
    const po = `msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n` +
        `msgid "Disks"\nmsgstr "Datenträger"\n\nmsgctxt "verb"\nmsgid "Backup"\nmsgstr "Sichern"\n\n` +
        `msgid "$0 disk"\nmsgid_plural "$0 disks"\nmsgstr[0] "$0 Datenträger"\nmsgstr[1] "$0 Datenträger (mehrere)"\n\n` +
        `#, fuzzy\nmsgid "Unsure"\nmsgstr "Unsicher"\n\nmsgid "Untranslated"\nmsgstr ""\n`;
    const locale = loadLocale(compilePo("de", po));
    const header = locale[""] as { language: string; "plural-forms": (n: number) => number };
    assert.equal(header.language, "de");
    assert.deepEqual([0, 1, 2].map(n => header["plural-forms"](n)), [1, 0, 1]);
    // Arrays made in the vm context have that context's prototype: copy before comparing.
    const entry = (key: string) => Array.from(locale[key] as unknown[]);
    assert.deepEqual(entry("Disks"), [null, "Datenträger"]);
    assert.deepEqual(entry("verb\u0004Backup"), [null, "Sichern"]);
    assert.deepEqual(entry("$0 disk"), ["$0 disks", "$0 Datenträger", "$0 Datenträger (mehrere)"]);
    assert.equal(locale["Unsure"], undefined);
    assert.equal(locale["Untranslated"], undefined);
});

it("refuses a Plural-Forms header that is not arithmetic on n", () => {
    assert.equal(pluralExpression("nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 ? 1 : 2);"),
                 "(n==1 ? 0 : n%10>=2 && n%10<=4 ? 1 : 2)");
    assert.throws(() => pluralExpression("nplurals=2; plural=alert(1);"), /unsafe/);
});
