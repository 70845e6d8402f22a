// Rebuilds one disk: create the image as `<name>.partial`, serve it with qemu-nbd, copy each file of
// the chain in order through the copy pipeline (many writes in flight), flush, stop the server, and only
// then, once the caller publishes it, give the image its final name. Any failure or cancellation removes the partial image.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { Handle } from "libnbd-node";
import { copyExtents } from "../engine/copy.ts";
import { NbdSink } from "../engine/nbd-sink.ts";
import { QemuNbdServer } from "../engine/qemu-nbd.ts";
import { StreamSource } from "../engine/stream-source.ts";
import { publish, refuseExisting, syncDirectory } from "../engine/output-file.ts";
import { partialFileName } from "../format/index.ts";
import type { BackupFile } from "./chain.ts";
import { requireChecksum } from "./checksum.ts";
import { createImage } from "./image.ts";

export interface DiskJob {
    dev: string;
    /** Backup folder. */
    dir: string;
    /** Chain members in order; the first is a full or copy. */
    members: BackupFile[];
    /** Final path of the restored image. */
    output: string;
    format: string;
    size: number;
    /** qemu-img create -o options. */
    createOptions: string[];
}

export interface DiskProgress {
    dev: string;
    /** Data bytes written so far, over all files of the chain. */
    done: number;
    total: number;
    /** The file being applied. */
    file: string;
}

export interface RestoreTuning {
    /** Largest read/write request; default 1 MiB (as fast as 4 MiB here, with a third less memory). */
    maxChunk?: number;
    /** Requests in flight; default 16. */
    maxInFlight?: number;
    /**
     * qemu-nbd host cache mode. Default none (O_DIRECT): a restore writes each byte once, and bypassing
     * the page cache halves the CPU work; where O_DIRECT is not supported (tmpfs) writeback is used.
     */
    cache?: "writeback" | "unsafe" | "none";
}

export interface DiskResult {
    dev: string;
    /** Final path; the image lies at `partial` until publish(). */
    file: string;
    partial: string;
    /** Data bytes written. */
    bytes: number;
    files: string[];
    checksums: { file: string; status: string }[];
    /** Gives the image its final name (never replacing a file). */
    publish(): Promise<void>;
    /** Removes the unpublished image. Never throws. */
    discard(): Promise<void>;
}

/** Cleanup hooks a signal handler can run synchronously when the process must exit at once. */
export const emergencyCleanup = new Set<() => void>();

async function startServer(image: string, job: DiskJob, cache: RestoreTuning["cache"]): Promise<QemuNbdServer> {
    const start = (mode: NonNullable<RestoreTuning["cache"]>) => QemuNbdServer.start(image, { format: job.format, exportName: job.dev, cache: mode });
    if (cache !== undefined)
        return start(cache);
    try {
        return await start("none");
    } catch {
        return start("writeback");
    }
}

/** Opens (and so fully validates) every member before anything is written. */
async function openSources(job: DiskJob): Promise<StreamSource[]> {
    const sources: StreamSource[] = [];
    try {
        for (const m of job.members) {
            const file = path.join(job.dir, m.name);
            try {
                sources.push(await StreamSource.open(file));
            } catch (err) {
                const e = err as NodeJS.ErrnoException;
                if (e.code === "ENOENT" || e.code === "EACCES" || e.code === "EISDIR")
                    throw new Error(`${file}: cannot read: ${e.message}`);
                throw err;
            }
        }
        return sources;
    } catch (err) {
        await Promise.allSettled(sources.map(s => s.close()));
        throw err;
    }
}

export async function restoreDisk(job: DiskJob, options: {
    signal?: AbortSignal;
    onProgress?: (p: DiskProgress) => void;
    tuning?: RestoreTuning;
}): Promise<DiskResult> {
    const { signal, onProgress } = options;
    const maxChunk = options.tuning?.maxChunk ?? 1024 * 1024;
    const maxInFlight = options.tuning?.maxInFlight ?? 16;
    await refuseExisting(job.output);
    const sources = await openSources(job);
    const total = sources.reduce((sum, s) => sum + s.meta.dataSize, 0);
    const partial = partialFileName(job.output);
    let server: QemuNbdServer | undefined;
    let handle: Handle | undefined;
    let created = false;
    const emergency = () => {
        server?.killNow();
        if (created) {
            try {
                fs.rmSync(partial, { force: true });
            } catch {
                // exiting anyway
            }
        }
    };
    emergencyCleanup.add(emergency);
    // Checksums are read beside the copy (the files are in the page cache for both) and must all pass
    // before the image gets its final name.
    const checksumAbort = new AbortController();
    const onAbort = () => checksumAbort.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort);
    const checksums = Promise.all(job.members.map(async m => {
        const file = path.join(job.dir, m.name);
        return { file: m.name, status: (await requireChecksum(file, checksumAbort.signal)).status };
    }));
    checksums.catch(() => {});
    try {
        signal?.throwIfAborted();
        await createImage(partial, job.format, job.size, job.createOptions);
        created = true;
        signal?.throwIfAborted();
        server = await startServer(partial, job, options.tuning?.cache);
        handle = new Handle();
        await handle.connectUri(server.uri);
        if (handle.getSize() < job.size)
            throw new Error(`the restore image serves ${handle.getSize()} bytes, expected ${job.size}`);
        const maxRequest = handle.getBlockSize("maximum") || undefined;
        let done = 0;
        for (let i = 0; i < sources.length; i++) {
            const source = sources[i];
            const name = job.members[i].name;
            const before = done;
            onProgress?.({ dev: job.dev, done, total, file: name });
            const sink = new NbdSink(handle, {
                // The base goes onto a fresh image, which reads as zeroes; later files overwrite content.
                zeroExisting: i > 0,
                size: job.size,
                maxRequest,
                flush: i === sources.length - 1,
            });
            await copyExtents([...source.extents], source, sink, {
                maxChunk,
                maxInFlight,
                // Frames of the other tool are up to 32 MiB: room for two, so decompressions overlap.
                maxBytesInFlight: Math.max(maxChunk * maxInFlight, 2 * source.largestFixedChunk),
                signal,
                onProgress: p => {
                    done = before + p.done;
                    onProgress?.({ dev: job.dev, done, total, file: name });
                },
            });
            done = before + source.meta.dataSize;
        }
        const sums = await checksums;
        await handle.shutdown();
        handle.close();
        handle = undefined;
        await server.stop();
        server = undefined;
        signal?.throwIfAborted();
        return {
            dev: job.dev, file: job.output, partial, bytes: done, files: job.members.map(m => m.name), checksums: sums,
            publish: async () => {
                await publish(partial, job.output);
                await syncDirectory(path.dirname(job.output));
            },
            discard: async () => {
                await fsp.rm(partial, { force: true }).catch(() => {});
            },
        };
    } catch (err) {
        checksumAbort.abort();
        await checksums.catch(() => {});
        handle?.close();
        await server?.stop().catch(() => {});
        if (created)
            await fsp.rm(partial, { force: true }).catch(() => {});
        throw err;
    } finally {
        signal?.removeEventListener("abort", onAbort);
        emergencyCleanup.delete(emergency);
        await Promise.allSettled(sources.map(s => s.close()));
    }
}
