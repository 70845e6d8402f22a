// SPDX-License-Identifier: GPL-3.0-or-later
// Feeds a sink a disk's extents the way the copy pipeline does (data cut at `maxChunk`, each chunk through
// the sink's transform, calls in order), for tests that need real stream files written by our sink.
import type { Extent, Sink } from "../../helper/engine/endpoint.ts";

export async function feedSink(sink: Sink, extents: readonly Extent[], disk: Buffer, maxChunk = Number.MAX_SAFE_INTEGER): Promise<void> {
    for (const e of extents) {
        if (!e.data) {
            await sink.writeZero(e);
            continue;
        }
        await sink.beginData(e);
        for (let at = e.offset; at < e.offset + e.length; at += maxChunk) {
            const chunk = { offset: at, length: Math.min(maxChunk, e.offset + e.length - at) };
            const data = Buffer.from(disk.subarray(chunk.offset, chunk.offset + chunk.length));
            await sink.writeChunk(chunk, sink.transform ? await sink.transform(chunk, data) : data);
        }
        await sink.endData(e);
    }
    await sink.finish();
}
