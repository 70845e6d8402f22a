// SPDX-License-Identifier: GPL-3.0-or-later
// Numbers with units and times of day, the same way everywhere on the page. Free of cockpit.js (the language
// is passed in) so that unit tests can run it under Node.

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/** Converts cockpit.language ("de", "pt_BR") into a BCP 47 tag for Intl ("pt-BR"); "en" when unusable. */
export function intlLanguage(language: string): string {
    const tag = language.replace("_", "-");
    try {
        return Intl.getCanonicalLocales(tag)[0] ?? "en";
    } catch {
        return "en";
    }
}

/**
 * A byte count with its binary unit, always: "832 B", "0 B", "64 MiB", "1.33 GiB", "1023 KiB" (three significant
 * digits, whole numbers from 100 on, the decimal separator of the language). Cockpit's format_bytes leaves counts under 1 KiB without a unit.
 */
export function formatBytes(n: number, language = "en"): string {
    if (!Number.isFinite(n))
        return String(n);
    let value = Math.abs(n);
    let unit = 0;
    while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
        value /= 1024;
        unit++;
    }
    const digits = unit === 0 || value >= 100 ? { maximumFractionDigits: 0 } : { maximumSignificantDigits: 3 };
    const number = new Intl.NumberFormat(intlLanguage(language), { ...digits, useGrouping: false }).format(value);
    return `${n < 0 ? "-" : ""}${number} ${BYTE_UNITS[unit]}`;
}

/**
 * A date with time in the page's language, always with a 24-hour clock: the schedule's times of day
 * ("15:30", as cron takes them) and the job and restore-point times then read alike.
 */
export function formatDateTime(date: Date, language = "en"): string {
    return date.toLocaleString(intlLanguage(language), { dateStyle: "medium", timeStyle: "medium", hourCycle: "h23" });
}
