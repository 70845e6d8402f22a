// SPDX-License-Identifier: GPL-3.0-or-later
// The source disk's `qemu-img info --output json`, saved beside its backup (`<dev>.<ident>.qcow.json`):
// the options a restored qcow2 image is made with (image/qcow2-params.ts).
import fsp from "node:fs/promises";
import path from "node:path";
import { oneLineMessage } from "../format/index.ts";

/** The saved qemu-img info for `dev` at the first of `idents` that has one, or null (raw disks, old tools). */
export async function readQcowInfo(dir: string, dev: string, idents: string[]): Promise<{ file: string; info: unknown } | null> {
    for (const ident of idents) {
        const file = path.join(dir, `${dev}.${ident}.qcow.json`);
        let text: string;
        try {
            text = await fsp.readFile(file, "utf8");
        } catch {
            continue;
        }
        try {
            return { file, info: JSON.parse(text) };
        } catch (err) {
            throw new Error(`${file}: not valid JSON: ${oneLineMessage(err)}`);
        }
    }
    return null;
}
