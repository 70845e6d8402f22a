// SPDX-License-Identifier: GPL-3.0-or-later
// The grammar of a stream file (format v2): which frames come in which order, and where each data
// frame's stored bytes lie. The bytes come from the caller (engine/stream-source.ts reads them from the
// file through a window); only headers and the trailer are read, never a payload.
import { FormatError, locateError } from "./errors.ts";
import { entryStoredSize, parseTrailerJson, type TrailerEntry } from "./trailer.ts";
import { FRAME_HEADER_LENGTH, isTerm, parseFrameHeader, type FrameHeader } from "./frame.ts";
import { isCompressed, parseMeta, type StreamMeta } from "./meta.ts";
import { LZ4_MAX_HEADER_LENGTH, parseLz4FrameHeader } from "./lz4-frame.ts";
import { FrameTable, FrameTableBuilder, type StoredPiece } from "./frame-table.ts";

export type { StoredPiece } from "./frame-table.ts";

/** `length` bytes of the stream at `position`, fewer at its end; valid until the next call. */
export type ByteReader = (position: number, length: number) => Promise<Uint8Array>;

/** A disk range a data or zero frame describes. */
export interface StreamExtent {
    offset: number;
    length: number;
    data: boolean;
}

/** What a stream holds, learnt from its frame headers and trailer. */
export interface StreamLayout {
    meta: StreamMeta;
    /** Data and zero frames in file order, as the disk ranges they describe. */
    extents: StreamExtent[];
    /** Where each data frame's stored pieces lie. */
    frames: FrameTable;
}

/**
 * Reads the structure of a stream of `fileSize` bytes through `read` and checks it: meta frame first,
 * data and zero frames in disk order inside the disk, a stop frame after exactly the announced data, the
 * compression trailer (when compressed) matching the data frames. Throws FormatError naming `file` and the
 * byte offset of the first problem. `assumedChunkSize`: see lz4Pieces.
 */
export async function scanStream(file: string, read: ByteReader, fileSize: number, assumedChunkSize: number): Promise<StreamLayout> {
    const reader = { bytes: read };
    const fail = (detail: string, offset: number): never => {
        throw new FormatError(detail, { file, offset });
    };
    const header = async (at: number, limit: number, what: string): Promise<FrameHeader> => {
        if (at + FRAME_HEADER_LENGTH > limit) {
            fail(`${what}: ${limit - at} bytes left where a ${FRAME_HEADER_LENGTH}-byte frame header belongs (file truncated?)`, at);
        }
        try {
            return parseFrameHeader(await reader.bytes(at, FRAME_HEADER_LENGTH));
        } catch (err) {
            throw locateError(err, { file, offset: at });
        }
    };
    const expectTerm = async (at: number, what: string): Promise<void> => {
        if (!isTerm(await reader.bytes(at, 2))) fail(`missing CRLF after ${what}`, at);
    };

    // meta frame
    if (fileSize === 0) fail("empty file, not a stream", 0);
    const metaHeader = await header(0, fileSize, "meta frame");
    if (metaHeader.kind !== "meta") fail(`first frame is "${metaHeader.kind}", expected "meta"`, 0);
    const metaEnd = FRAME_HEADER_LENGTH + metaHeader.length;
    if (metaEnd + 2 > fileSize) fail(`meta frame of ${metaHeader.length} bytes runs past the end of the file`, FRAME_HEADER_LENGTH);
    let meta: StreamMeta;
    try {
        meta = parseMeta(Buffer.from(await reader.bytes(FRAME_HEADER_LENGTH, metaHeader.length)));
    } catch (err) {
        throw locateError(err, { file, offset: FRAME_HEADER_LENGTH });
    }
    await expectTerm(metaEnd, "the meta frame");

    // compression trailer, read from the end: "<json>\r\n" + comp header
    let trailer: TrailerEntry[] | undefined;
    let framesEnd = fileSize;
    if (isCompressed(meta)) {
        const compAt = fileSize - FRAME_HEADER_LENGTH;
        if (compAt < metaEnd + 2) fail("compressed stream has no room for its compression trailer", Math.max(compAt, 0));
        let comp: FrameHeader;
        try {
            comp = parseFrameHeader(await reader.bytes(compAt, FRAME_HEADER_LENGTH));
        } catch (err) {
            throw new FormatError(`compressed stream does not end with a comp frame (truncated?): ${err instanceof FormatError ? err.detail : err}`, { file, offset: compAt });
        }
        if (comp.kind !== "comp") fail(`compressed stream does not end with a comp frame (found "${comp.kind}")`, compAt);
        const jsonAt = compAt - 2 - comp.length;
        if (jsonAt < metaEnd + 2) fail(`compression trailer of ${comp.length} bytes does not fit in the file`, compAt);
        try {
            trailer = parseTrailerJson(Buffer.from(await reader.bytes(jsonAt, comp.length)));
        } catch (err) {
            throw locateError(err, { file, offset: jsonAt });
        }
        await expectTerm(compAt - 2, "the compression trailer");
        framesEnd = jsonAt;
    }

    // data/zero frames up to stop
    const extents: StreamExtent[] = [];
    const frames = new FrameTableBuilder();
    let at = metaEnd + 2;
    let lastEnd = 0;
    let dataSize = 0;
    for (;;) {
        const h = await header(at, framesEnd, "missing stop frame");
        if (h.kind === "stop") {
            at += FRAME_HEADER_LENGTH;
            if (dataSize !== meta.dataSize) fail(`stop frame after ${dataSize} data bytes, but the meta frame announces dataSize ${meta.dataSize}`, at - FRAME_HEADER_LENGTH);
            if (trailer && trailer.length !== frames.frameCount) {
                fail(`compression trailer lists ${trailer.length} data frames, the stream has ${frames.frameCount}`, framesEnd);
            }
            if (at !== framesEnd) fail(`${framesEnd - at} bytes of garbage after the stop frame`, at);
            break;
        }
        if (h.kind !== "data" && h.kind !== "zero") fail(`unexpected "${h.kind}" frame`, at);
        if (h.length === 0) fail(`empty ${h.kind} frame`, at);
        if (h.start < lastEnd) fail(`${h.kind} frame at disk offset ${h.start} is not after the previous frame's end ${lastEnd}`, at);
        if (h.start + h.length > meta.virtualSize) fail(`${h.kind} frame ${h.start}+${h.length} exceeds the disk size ${meta.virtualSize}`, at);
        lastEnd = h.start + h.length;
        extents.push({ offset: h.start, length: h.length, data: h.kind === "data" });
        const payloadAt = at + FRAME_HEADER_LENGTH;
        if (h.kind === "zero") {
            at = payloadAt;
            continue;
        }
        let pieces: StoredPiece[];
        let stored: number;
        if (trailer) {
            const entry = trailer[frames.frameCount];
            if (entry === undefined) fail(`data frame ${frames.frameCount + 1} has no entry in the compression trailer (${trailer.length} entries)`, at);
            stored = entryStoredSize(entry);
            if (payloadAt + stored + 2 > framesEnd) fail(`data payload of ${stored} stored bytes runs past the end of the frames (file truncated?)`, payloadAt);
            const sizes = typeof entry === "number" ? [entry] : entry.sizes;
            pieces = await lz4Pieces(reader, file, h, payloadAt, sizes, assumedChunkSize);
        } else {
            stored = h.length;
            if (payloadAt + stored + 2 > framesEnd) fail(`data payload of ${stored} bytes runs past the end of the file (truncated?)`, payloadAt);
            pieces = [{ offset: h.start, length: h.length, fileOffset: payloadAt, storedLength: stored }];
        }
        await expectTerm(payloadAt + stored, "a data payload");
        frames.add(h.start, h.length, pieces);
        dataSize += h.length;
        at = payloadAt + stored + 2;
    }
    return { meta, extents, frames: frames.build() };
}

/**
 * Locates the lz4 frames of one data payload and learns each one's uncompressed length; frames that do not
 * record it are taken as cut at `assumedChunkSize`, as both tools cut them.
 */
async function lz4Pieces(
    reader: { bytes: ByteReader }, file: string, h: FrameHeader, payloadAt: number, sizes: readonly number[], assumedChunkSize: number,
): Promise<StoredPiece[]> {
    if (sizes.length === 1) return [{ offset: h.start, length: h.length, fileOffset: payloadAt, storedLength: sizes[0] }];
    const pieces: StoredPiece[] = [];
    let fileOffset = payloadAt;
    let offset = h.start;
    let recorded = true;
    for (const storedLength of sizes) {
        let contentSize: number | undefined;
        try {
            contentSize = parseLz4FrameHeader(Buffer.from(await reader.bytes(fileOffset, Math.min(LZ4_MAX_HEADER_LENGTH, storedLength)))).contentSize;
        } catch (err) {
            throw locateError(err, { file, offset: fileOffset });
        }
        if (contentSize === undefined) recorded = false;
        pieces.push({ offset, length: contentSize ?? 0, fileOffset, storedLength });
        offset += contentSize ?? 0;
        fileOffset += storedLength;
    }
    if (!recorded) {
        // No sizes in the frames: assume the writer cut at a fixed chunk size, as both tools do.
        const expected = Math.ceil(h.length / assumedChunkSize);
        if (expected !== sizes.length) {
            throw new FormatError(`data frame of ${h.length} bytes has ${sizes.length} lz4 frames without content sizes; chunks of ${assumedChunkSize} would make ${expected}`, { file, offset: payloadAt });
        }
        pieces.forEach((p, i) => {
            p.offset = h.start + i * assumedChunkSize;
            p.length = Math.min(assumedChunkSize, h.length - i * assumedChunkSize);
        });
    } else if (offset !== h.start + h.length) {
        throw new FormatError(`lz4 frames of the data frame hold ${offset - h.start} bytes, the frame header says ${h.length}`, { file, offset: payloadAt });
    }
    return pieces;
}
