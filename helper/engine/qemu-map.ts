// Extents from qemu's own tools instead of libnbd block status (`-q/--qemu`): `nbdinfo --map`, which
// reports the same contexts through a separate process. Useful to cross-check a server's answers.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { StatusRange } from "./extents.ts";

const run = promisify(execFile);

interface MapEntry {
    offset: number;
    length: number;
    type: number;
}

export function nbdUnixUri(socket: string, exportName: string): string {
    return `nbd+unix:///${encodeURIComponent(exportName)}?socket=${encodeURIComponent(socket)}`;
}

export async function mapWithNbdinfo(socket: string, exportName: string, context: string): Promise<StatusRange[]> {
    const { stdout } = await run("nbdinfo", ["--json", `--map=${context}`, nbdUnixUri(socket, exportName)],
        { maxBuffer: 1 << 30 });
    const entries = JSON.parse(stdout) as MapEntry[];
    if (!Array.isArray(entries))
        throw new Error("nbdinfo --map gave no list of extents");
    return entries.map(e => {
        if (![e.offset, e.length, e.type].every(Number.isSafeInteger))
            throw new Error("nbdinfo --map gave a malformed extent");
        return { offset: e.offset, length: e.length, flags: e.type };
    });
}
