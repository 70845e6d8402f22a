// SPDX-License-Identifier: GPL-3.0-or-later
// The engine API of mapping: a restore point's disks served read-only over NBD, without restoring them.
//
//   const mapping = await mapPoint({ folder: "/backup/vm1", until: "virtnbdbackup.1" });
//   mapping.disks[0].uri   // "nbd+unix:///?socket=/run/virtnbdbackup/maps/<random>/vda.sock"
//   await mapping.stop();  // ends the servers and removes the directory
//
// Options: disk (one disk only), sequence (exact files), verifyChecksums, socketOwner (a user other than
// root who may connect, e.g. QEMU's for a VM started on the mapping).
//
// The point is selected and checked exactly as a restore does (check-point.ts: chain, foreign files, every
// member's frame structure): what a restore refuses is refused here with the same message, naming the
// file. Each disk gets an index (build-index.ts) and one nbdkit with our plugin; the mapping lives as
// long as the process that made it (or until stop()).
import path from "node:path";
import { ChainError } from "../restore/chain.ts";
import { checkPoint, type PointSelection } from "../restore/check-point.ts";
import { requireChecksum } from "../restore/checksum.ts";
import { openBackupFolder } from "../restore/plan.ts";
import { MapDir } from "./map-dirs.ts";
import { lockFolderForMapping } from "../backup/folder-lock.ts";
import type { NbdkitServer } from "./nbdkit-server.ts";
import { serveChain } from "./serve-chain.ts";

export interface MapRequest {
    /** A chain's folder (a VM folder's first chain, or its chain-N subfolder). */
    folder: string;
    /** The restore point as restore's --until takes it (checkpoint, data file name, diff ident); default: newest. */
    until?: string;
    /** Exactly these files of one disk, in order (restore's --sequence, virtnbdmap's -f). */
    sequence?: string[];
    /** Only this disk (target dev); default: every disk of the point. */
    disk?: string;
    /**
     * Check every member's .chksum before serving (reads the whole chain once). Without it, damage in a
     * frame header or the lz4 data is still found (at start, or as an I/O error of the read that meets
     * it); damage inside an uncompressed payload only a checksum can find.
     */
    verifyChecksums?: boolean;
    /**
     * Who may connect besides root: the sockets become this user's (0600) in a 0711 folder. For a VM started
     * on the mapping, QEMU's user (backup/job-dir.ts qemuOwner()); default root only.
     */
    socketOwner?: { uid: number; gid: number };
}

export interface MappedDisk {
    /** Target dev, e.g. vda. */
    dev: string;
    /** NBD URI for libnbd, qemu-img, nbdcopy, nbdfuse: nbd+unix:///?socket=... */
    uri: string;
    socket: string;
    /** Virtual size in bytes. */
    size: number;
    /** Format of the original disk (the mapping always serves raw data). */
    diskFormat: string;
    /** The chain's files, oldest first. */
    files: string[];
    /** nbdkit's pid. */
    pid: number;
}

export interface Mapping {
    /** The restore point's data file (the newest member of the first disk's chain). */
    point: string;
    /** The point's checkpoint name. */
    checkpoint: string;
    disks: MappedDisk[];
    /** What the point's check said and did not refuse (unfinished files ignored, disks without a backup, raw images). */
    warnings: string[];
    /** The folder holding the sockets (root's, 0700), removed by stop(). */
    dir: string;
    /** Ends the servers and removes the directory; safe to call any number of times. */
    stop(): Promise<void>;
    /** Kills the servers at once and removes the directory (for process exit paths). */
    killNow(): void;
}

/**
 * Maps a restore point; throws ChainError (naming the file) for what a restore would refuse, FolderBusyError
 * while the folder is being pruned or consolidated. From reading the folder until its files are recorded as
 * in use, the folder's shared lock keeps a pruning out (backup/folder-lock.ts).
 */
export async function mapPoint(req: MapRequest): Promise<Mapping> {
    const lock = await lockFolderForMapping(req.folder);
    try {
        return await mapLocked(req);
    } finally {
        lock.release();
    }
}

async function mapLocked(req: MapRequest): Promise<Mapping> {
    const folder = await openBackupFolder(req.folder);
    const selection: PointSelection = { until: req.until, sequence: req.sequence, disk: req.disk };
    const checked = await checkPoint(folder, selection);
    if (checked.chains.length === 0 || !checked.point)
        throw new ChainError(`nothing to map in ${folder.dir}: the point has only raw images`);
    if (req.verifyChecksums) {
        for (const m of checked.chains.flatMap(c => c.members))
            await requireChecksum(path.join(folder.dir, m.name)).catch((err: Error) => {
                throw new ChainError(err.message, m.name);
            });
    }
    const dir = MapDir.create(req.socketOwner !== undefined);
    const servers: NbdkitServer[] = [];
    const killNow = () => {
        for (const s of servers)
            s.killNow();
        dir.remove();
    };
    try {
        const disks: MappedDisk[] = [];
        for (const chain of checked.chains) {
            const server = await serveChain(dir, folder.dir, chain.dev, chain.members);
            servers.push(server);
            if (req.socketOwner)
                dir.giveSocket(server.socket, req.socketOwner);
            const base = chain.members[0].meta;
            disks.push({
                dev: chain.dev, uri: server.uri, socket: server.socket, size: base.virtualSize, diskFormat: base.diskFormat,
                files: chain.members.map(m => m.name), pid: server.pid,
            });
        }
        let stopped: Promise<void> | undefined;
        return {
            point: checked.point.name,
            checkpoint: checked.point.meta.checkpointName,
            disks,
            warnings: checked.warnings,
            dir: dir.dir,
            stop: () => stopped ??= Promise.all(servers.map(s => s.stop())).then(() => dir.remove()),
            killNow,
        };
    } catch (err) {
        await Promise.all(servers.map(s => s.stop()));
        dir.remove();
        throw err;
    }
}
