// SPDX-License-Identifier: GPL-3.0-or-later
// Extents from qemu's own tools instead of libnbd block status (`-q/--qemu`): `nbdinfo --map`, which
// reports the same contexts through a separate process. Useful to cross-check a server's answers.
import { runTool } from "../tools/run-tool.ts";
import type { StatusRange } from "./extents.ts";

interface MapEntry {
    offset: number;
    length: number;
    type: number;
}

export function nbdUnixUri(socket: string, exportName: string): string {
    return `nbd+unix:///${encodeURIComponent(exportName)}?socket=${encodeURIComponent(socket)}`;
}

export async function mapWithNbdinfo(socket: string, exportName: string, context: string): Promise<StatusRange[]> {
    const stdout = await runTool("nbdinfo", ["--json", `--map=${context}`, nbdUnixUri(socket, exportName)]);
    const entries = JSON.parse(stdout) as MapEntry[];
    if (!Array.isArray(entries))
        throw new Error("nbdinfo --map gave no list of extents");
    return entries.map(e => {
        if (![e.offset, e.length, e.type].every(Number.isSafeInteger))
            throw new Error("nbdinfo --map gave a malformed extent");
        return { offset: e.offset, length: e.length, flags: e.type };
    });
}
