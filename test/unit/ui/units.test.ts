// SPDX-License-Identifier: GPL-3.0-or-later
// Sizes and times as the page prints them (src/app/units.ts): a unit on every size, one clock everywhere.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatBytes, formatDateTime, intlLanguage } from "../../../src/app/units.ts";

describe("formatBytes", () => {
    it("gives sizes under 1 KiB a unit too", () => {
        assert.equal(formatBytes(0), "0 B");
        assert.equal(formatBytes(6), "6 B");
        assert.equal(formatBytes(832), "832 B");
        assert.equal(formatBytes(1023), "1023 B");
    });

    it("uses binary units with three significant digits", () => {
        assert.equal(formatBytes(1024), "1 KiB");
        assert.equal(formatBytes(1536), "1.5 KiB");
        assert.equal(formatBytes(64 * 2 ** 20), "64 MiB");
        assert.equal(formatBytes(1.33 * 2 ** 30), "1.33 GiB");
        assert.equal(formatBytes(15.64 * 2 ** 20), "15.6 MiB");
        assert.equal(formatBytes(2 ** 40), "1 TiB");
        assert.equal(formatBytes(1023 * 1024), "1023 KiB");
        assert.equal(formatBytes(2 ** 70), "1024 EiB");
        assert.equal(formatBytes(-2048), "-2 KiB");
    });

    it("writes numbers the language's way", () => {
        assert.equal(formatBytes(1536, "de"), "1,5 KiB");
        assert.equal(formatBytes(832, "de"), "832 B");
        assert.equal(formatBytes(1.33 * 2 ** 30, "pt_BR"), "1,33 GiB");
    });
});

describe("formatDateTime", () => {
    const afternoon = new Date(2026, 11, 6, 15, 30, 5);
    const night = new Date(2026, 11, 6, 2, 0, 0);

    it("uses a 24-hour clock in every language, as the schedule does", () => {
        for (const lang of ["en", "en_US", "de", "fr"]) {
            assert.match(formatDateTime(afternoon, lang), /15:30:05/, lang);
            assert.match(formatDateTime(night, lang), /0?2:00:00/, lang);
            assert.doesNotMatch(formatDateTime(afternoon, lang), /AM|PM/, lang);
        }
        assert.match(formatDateTime(afternoon, "de"), /6\.12\.2026/);
    });
});

describe("intlLanguage", () => {
    it("turns Cockpit's language codes into Intl tags", () => {
        assert.equal(intlLanguage("pt_BR"), "pt-BR");
        assert.equal(intlLanguage("de"), "de");
        assert.equal(intlLanguage("not a language!"), "en");
    });
});
