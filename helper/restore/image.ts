// SPDX-License-Identifier: GPL-3.0-or-later
// The restore target image: created with `qemu-img create` in the source's format, with the options of
// the saved `qemu-img info` (`<dev>.<ident>.qcow.json`), under a name that cannot be mistaken for a
// finished restore.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { oneLineMessage } from "../format/index.ts";
import { runTool } from "../tools/run-tool.ts";

/** `-o` options for qemu-img create from a saved `qemu-img info --output json`. */
export function qcowCreateOptions(info: unknown): string[] {
    if (typeof info !== "object" || info === null)
        return [];
    const i = info as Record<string, unknown>;
    const data = ((i["format-specific"] as Record<string, unknown> | undefined)?.data ?? {}) as Record<string, unknown>;
    const opts: string[] = [];
    if (typeof data.compat === "string" && /^[0-9.]+$/.test(data.compat))
        opts.push(`compat=${data.compat}`);
    if (typeof i["cluster-size"] === "number" && Number.isSafeInteger(i["cluster-size"]))
        opts.push(`cluster_size=${i["cluster-size"]}`);
    if (data["lazy-refcounts"] === true)
        opts.push("lazy_refcounts=on");
    if (typeof data["refcount-bits"] === "number" && Number.isSafeInteger(data["refcount-bits"]))
        opts.push(`refcount_bits=${data["refcount-bits"]}`);
    if (data["extended-l2"] === true)
        opts.push("extended_l2=on");
    if (data["compression-type"] === "zstd" || data["compression-type"] === "zlib")
        opts.push(`compression_type=${data["compression-type"]}`);
    return opts;
}

/** qemu-img create arguments (without the binary). Only qcow2 and raw are restored. */
export function createArgs(file: string, format: string, size: number, options: string[]): string[] {
    if (format !== "qcow2" && format !== "raw")
        throw new Error(`cannot restore a disk of format "${format}" (only qcow2 and raw)`);
    const args = ["create", "-q", "-f", format];
    if (format === "qcow2" && options.length > 0)
        args.push("-o", options.join(","));
    args.push(file, String(size));
    return args;
}

/** Runs a tool with argv, rejecting with its stderr on failure. */
/**
 * Claims `file` exclusively (so two restores cannot share it) and creates the image in it.
 * The caller removes it on failure.
 */
export async function createImage(file: string, format: string, size: number, options: string[]): Promise<void> {
    const args = createArgs(file, format, size, options);
    try {
        // Never through a name that exists (a symlink included); 0600: the image holds a whole disk.
        const fh = await fsp.open(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
        await fh.close();
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST")
            throw new Error(`${file} already exists (another restore running, or left over from an interrupted one: remove it)`);
        throw err;
    }
    await runTool("qemu-img", args);
}

/** The saved qemu-img info for `dev` at `ident`, or null when the backup has none (raw disks, old tools). */
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
