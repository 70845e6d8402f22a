// SPDX-License-Identifier: GPL-3.0-or-later
// The map index the nbdkit plugin maps (nbdkit-plugin/src/map_index.h, README): pure encoding.
//
// Why the helper builds the index and the plugin only reads it: the stream format has one parser here
// (StreamSource), which already checks every member's whole frame structure before a restore; the plugin
// stays a small reader (mmap, binary search, pread, lz4) with nothing of the format's JSON to parse, and
// the merge of the files (newest wins) is plain TypeScript with unit tests. Indexing reads only frame
// headers (and the lz4 trailer), never data, so a mapping starts in well under a second.
import type { MapExtent } from "./extent-map.ts";

export const MAP_INDEX_MAGIC = "VNBDMAP1";
const HEADER_BYTES = 64;
const FILE_BYTES = 48;
const EXTENT_BYTES = 64;
const NO_FILE = 0xffffffffffffffffn;

/** A file the index names, with what fstat must say when the plugin opens it. */
export interface IndexedFile {
    path: string;
    lz4: boolean;
    size: bigint;
    mtimeNs: bigint;
    dev: bigint;
    ino: bigint;
}

export interface MapIndex {
    diskSize: number;
    files: IndexedFile[];
    extents: MapExtent[];
}

export function encodeMapIndex(index: MapIndex): Buffer {
    const paths = index.files.map(f => Buffer.from(`${f.path}\0`, "utf8"));
    const stringsLength = Math.max(1, paths.reduce((sum, p) => sum + p.length, 0));
    const filesOffset = HEADER_BYTES;
    const extentsOffset = filesOffset + FILE_BYTES * index.files.length;
    const stringsOffset = extentsOffset + EXTENT_BYTES * index.extents.length;
    const buf = Buffer.alloc(stringsOffset + stringsLength);
    buf.write(MAP_INDEX_MAGIC, 0, "latin1");
    const header = [index.diskSize, index.files.length, index.extents.length, filesOffset, extentsOffset, stringsOffset, stringsLength];
    header.forEach((v, i) => buf.writeBigUInt64LE(BigInt(v), 8 + 8 * i));
    let pathOffset = 0;
    index.files.forEach((f, i) => {
        const at = filesOffset + FILE_BYTES * i;
        [BigInt(pathOffset), f.lz4 ? 1n : 0n, f.size, f.mtimeNs, f.dev, f.ino].forEach((v, j) => buf.writeBigUInt64LE(v, at + 8 * j));
        paths[i].copy(buf, stringsOffset + pathOffset);
        pathOffset += paths[i].length;
    });
    index.extents.forEach((e, i) => {
        const at = extentsOffset + EXTENT_BYTES * i;
        const fields = [e.offset, e.length, e.file, e.fileOffset, e.storedLength, e.frameOffset, e.frameLength, 0];
        fields.forEach((v, j) => buf.writeBigUInt64LE(v === null ? NO_FILE : BigInt(v), at + 8 * j));
    });
    return buf;
}

/** Reads an index back (tests, and a look at a running mapping's index). */
export function decodeMapIndex(buf: Buffer): MapIndex {
    if (buf.length < HEADER_BYTES || buf.toString("latin1", 0, 8) !== MAP_INDEX_MAGIC)
        throw new Error("not a map index");
    const u64 = (at: number) => buf.readBigUInt64LE(at);
    const num = (at: number) => Number(u64(at));
    const [diskSize, fileCount, extentCount, filesOffset, extentsOffset, stringsOffset] = [8, 16, 24, 32, 40, 48].map(num);
    const files: IndexedFile[] = [];
    for (let i = 0; i < fileCount; i++) {
        const at = filesOffset + FILE_BYTES * i;
        const start = stringsOffset + num(at);
        files.push({
            path: buf.toString("utf8", start, buf.indexOf(0, start)),
            lz4: u64(at + 8) === 1n, size: u64(at + 16), mtimeNs: u64(at + 24), dev: u64(at + 32), ino: u64(at + 40),
        });
    }
    const extents: MapExtent[] = [];
    for (let i = 0; i < extentCount; i++) {
        const at = extentsOffset + EXTENT_BYTES * i;
        const file = u64(at + 16);
        extents.push({
            offset: num(at), length: num(at + 8), file: file === NO_FILE ? null : Number(file),
            fileOffset: num(at + 24), storedLength: num(at + 32), frameOffset: num(at + 40), frameLength: num(at + 48),
        });
    }
    return { diskSize, files, extents };
}
