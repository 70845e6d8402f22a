// SPDX-License-Identifier: GPL-3.0-or-later
// Backing up one disk: plan its extents from the NBD export, then copy them into a stream or raw file.
import fs from "node:fs";
import { copyExtents, type CopyProgress } from "../engine/copy.ts";
import type { Extent, Sink } from "../engine/endpoint.ts";
import { allocationToExtents, dataBytes, dirtyToExtents } from "../engine/extents.ts";
import { CONTEXT_ALLOCATION, NbdSource } from "../engine/nbd-source.ts";
import { mapWithNbdinfo } from "../engine/qemu-map.ts";
import { ImageSink, rawPlacement } from "../engine/image-sink.ts";
import { StreamSink } from "../engine/stream-sink.ts";
import { isoLocalDate, type StreamMeta } from "../format/index.ts";
import type { DiskConfig } from "../libvirt/domain-xml.ts";
import type { LevelPlan } from "./levels.ts";
import type { BackupOptions, DiskExport, Note } from "./types.ts";

const MiB = 1 << 20;

export interface CopyHooks {
    /** Called once the copy's first reads are asked for: work beside the copy starts then, not before. */
    onCopyStarted?: () => void;
    /** Called once every byte of the disk has been read (see copyExtents). */
    onSourceDone?: () => void;
}

/** What a backup file records about when and of which VM it was made. */
export interface FileOrigin {
    now: Date;
    /** libvirt UUID of the VM: the meta frame's domainUuid. */
    domainUuid: string;
}

export async function backupDisk(
    disk: DiskConfig, source: DiskExport, file: string, plan: LevelPlan, options: BackupOptions, origin: FileOrigin,
    note: Note, hooks: CopyHooks = {},
): Promise<{ dev: string; file: string; dataBytes: number; fileBytes: number }> {
    const incremental = plan.level === "inc" || plan.level === "diff";
    // An inc/diff reads only its bitmap's extents: QEMU answers each block status for every context the
    // connection has, so base:allocation would be worked out for nothing. (A raw disk has no bitmap: in an
    // inc/diff it would not be here, selectDisks; without a bitmap planExtents refuses the inc.)
    const contexts = incremental && source.dirtyContext ? [source.dirtyContext] : [CONTEXT_ALLOCATION];
    let closing: Promise<void> | undefined;
    const nbd = await NbdSource.open({ socket: source.socket, exportName: source.exportName, contexts, connections: options.connections ?? 2 });
    try {
        const extents = await planExtents(nbd, source, incremental, options.qemuExtents ?? false);
        const total = dataBytes(extents);
        note({ event: "disk", dev: disk.target, file, total, size: nbd.size });
        let sink: Sink;
        /** A raw image gets its final name after the copy (a stream file names itself when it finishes). */
        let publish = async () => {};
        // Raw-format disks have no stream: they are copied as raw images, like the other tool does.
        const type = disk.driverType === "raw" ? "raw" : options.type;
        if (type === "raw") {
            const image = await ImageSink.create(file, nbd.size, rawPlacement(nbd.size));
            sink = image;
            publish = () => image.publish();
        } else {
            const meta: StreamMeta = {
                virtualSize: nbd.size,
                dataSize: total,
                date: isoLocalDate(origin.now),
                diskName: disk.target,
                diskFormat: disk.driverType ?? "raw",
                checkpointName: plan.checkpointName,
                compressed: options.compress,
                compressionMethod: "lz4",
                parentCheckpoint: plan.parentCheckpoint,
                incremental,
                streamVersion: 2,
                domainUuid: origin.domainUuid,
            };
            sink = await StreamSink.create(file, meta, { compress: options.compress, maxRequestSize: nbd.maxRequest });
        }
        let last = 0;
        const copying = copyExtents(extents, nbd, sink, {
            ...copyLimits(options.inFlight),
            signal: options.signal,
            // Every byte is read: let go of the export, so the job can end while the file is finished.
            onSourceDone: () => {
                closing ??= nbd.close();
                hooks.onSourceDone?.();
            },
            onProgress: (p: CopyProgress) => {
                // Progress events at most every 64 MiB and at the end: enough for a live bar.
                if (p.done - last >= 64 * MiB || p.done === p.total) {
                    last = p.done;
                    note({ event: "progress", dev: disk.target, done: p.done, total: p.total });
                }
            },
        });
        hooks.onCopyStarted?.();
        const result = await copying;
        await publish();
        const fileBytes = fs.statSync(file).size;
        note({ event: "disk-done", dev: disk.target, file, bytes: result.done, fileBytes });
        return { dev: disk.target, file, dataBytes: result.done, fileBytes };
    } finally {
        await (closing ??= nbd.close());
    }
}

/**
 * Chunk size and in-flight limits of a disk's copy. 1 MiB chunks: each is received, summed and written while
 * it is still in the CPU's cache, which costs less CPU than bigger ones; NbdSource reads each as 256 KiB
 * requests, which QEMU answers faster (bench/results/experiments.md §7). The in-flight limit is in bytes:
 * small dirty extents of an incremental are many requests at once (64), as nbdcopy keeps. Compressed: 1 MiB
 * lz4 frames inside big extents, but an extent below the server's request size is one frame (StreamSink.
 * chunkSize), up to 32 MiB; 16 MiB in flight, as plain, lets the next extents be read while one is compressed
 * (at 4 MiB a 4 MiB extent was read, compressed and written alone, one after the other: §11).
 */
export function copyLimits(inFlight?: number): { maxChunk: number; maxInFlight: number; maxBytesInFlight: number } {
    const maxChunk = MiB;
    return { maxChunk, maxInFlight: inFlight ?? 64, maxBytesInFlight: (inFlight ?? 16) * maxChunk };
}

async function planExtents(nbd: NbdSource, source: DiskExport, incremental: boolean, useQemu: boolean): Promise<Extent[]> {
    const context = incremental ? source.dirtyContext : CONTEXT_ALLOCATION;
    if (!context)
        throw new Error(`no dirty bitmap is exported for ${source.exportName}`);
    if (!useQemu)
        return nbd.extents(context);
    const ranges = await mapWithNbdinfo(source.socket, source.exportName, context);
    return incremental ? dirtyToExtents(ranges) : allocationToExtents(ranges);
}
