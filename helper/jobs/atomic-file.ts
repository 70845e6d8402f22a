// SPDX-License-Identifier: GPL-3.0-or-later
// Files other processes read while we write them: written beside, then renamed into place, so a
// reader (the page's file watch) sees the old or the new content, never half of one.
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic as writeFileAtomicSafely } from "../fs/safe-open.ts";

export function ensureDir(dir: string): void {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export function writeFileAtomic(file: string, content: string): void {
    ensureDir(path.dirname(file));
    // The temporary name is created new, never written through (helper/fs/safe-open.ts).
    writeFileAtomicSafely(file, content, 0o600);
}

/** The file's JSON, or undefined when it does not exist; other read errors and bad JSON throw. */
export function readJsonFile(file: string): unknown {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT")
            return undefined;
        throw err;
    }
    try {
        return JSON.parse(text);
    } catch (err) {
        throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
    }
}
