// SPDX-License-Identifier: GPL-3.0-or-later
// JSON text exactly as Python's json.dumps() writes it (the other tool's meta frame and trailer are
// compared byte for byte in tests): ensure_ascii escaping, ", " and ": " separators without indent,
// "," + newline with indent. Only the value types the stream format uses are supported.

export type PyJsonValue = null | boolean | number | string | PyJsonValue[] | { [key: string]: PyJsonValue };

const SHORT_ESCAPES: Record<string, string> = {
    "\"": "\\\"", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f",
};

/** A string as Python's json.dumps(ensure_ascii=True) quotes it: everything outside " ".."~" escaped. */
export function pyJsonString(text: string): string {
    let out = "\"";
    for (let i = 0; i < text.length; i++) {
        const ch = text[i];
        const code = text.charCodeAt(i);
        if (SHORT_ESCAPES[ch] !== undefined) out += SHORT_ESCAPES[ch];
        else if (code >= 0x20 && code <= 0x7e) out += ch;
        else out += "\\u" + code.toString(16).padStart(4, "0"); // UTF-16 units, like Python (surrogate pairs too)
    }
    return out + "\"";
}

/** json.dumps(value, indent=indent); `indent` undefined means the one-line form with spaces. */
export function pyJsonDumps(value: PyJsonValue, indent?: number): string {
    return dump(value, indent, 0);
}

function dump(value: PyJsonValue, indent: number | undefined, depth: number): string {
    if (value === null) return "null";
    if (typeof value === "boolean") return value ? "true" : "false";
    if (typeof value === "number") {
        // Only integers: Python's float repr differs from JavaScript's, and the format has no floats.
        if (!Number.isSafeInteger(value)) throw new TypeError(`cannot encode ${value}: only safe integers are supported`);
        return String(value);
    }
    if (typeof value === "string") return pyJsonString(value);
    const items: string[] = Array.isArray(value)
        ? value.map((v) => dump(v, indent, depth + 1))
        : Object.entries(value).map(([k, v]) => `${pyJsonString(k)}: ${dump(v, indent, depth + 1)}`);
    const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
    if (items.length === 0) return open + close;
    if (indent === undefined) return open + items.join(", ") + close;
    const inner = "\n" + " ".repeat(indent * (depth + 1));
    const outer = "\n" + " ".repeat(indent * depth);
    return open + inner + items.join("," + inner) + outer + close;
}
