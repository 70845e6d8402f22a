// SPDX-License-Identifier: GPL-3.0-or-later
// The map index of one disk at one restore point: the chain's members (restore order, checked by
// check-point.ts) read for their frame layout only, laid over each other (extent-map.ts).
import path from "node:path";
import { StreamSource } from "../engine/stream-source.ts";
import type { BackupFile } from "../restore/chain.ts";
import { mergeLayers, zeroExtent, type MapExtent } from "./extent-map.ts";
import type { IndexedFile, MapIndex } from "./index-file.ts";

/** One layer per member: its data frames (lz4 frame by lz4 frame) and the ranges its zero frames name. */
export async function buildMapIndex(dir: string, members: readonly BackupFile[]): Promise<MapIndex> {
    const files: IndexedFile[] = [];
    const layers: MapExtent[][] = [];
    let diskSize = 0;
    for (const [i, member] of members.entries()) {
        const file = path.join(dir, member.name);
        const source = await StreamSource.open(file);
        try {
            const st = await source.stat();
            files.push({ path: file, lz4: source.compressed, size: st.size, mtimeNs: st.mtimeNs, dev: st.dev, ino: st.ino });
            diskSize = source.size;
            const data = source.storedPieces().map((p): MapExtent => ({
                offset: p.offset, length: p.length, file: i, fileOffset: p.fileOffset, storedLength: p.storedLength,
                frameOffset: p.offset, frameLength: p.length,
            }));
            const zeroes = source.extents.filter(e => !e.data).map(e => zeroExtent(e.offset, e.length));
            layers.push([...data, ...zeroes].sort((a, b) => a.offset - b.offset));
        } finally {
            await source.close();
        }
    }
    return { diskSize, files, extents: mergeLayers(diskSize, layers) };
}
