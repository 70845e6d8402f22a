// SPDX-License-Identifier: GPL-3.0-or-later
// The vocabulary of a backup run: what callers ask for, what they are told while it runs, what they get.
import type { Level, RequestedLevel } from "./levels.ts";
import type { CheckpointRegistry } from "./checkpoint-registry.ts";
import type { BackupResult } from "../protocol/job-types.ts";

// What a run answers is part of the page's contract.
export type { BackupResult };

export interface BackupOptions {
    domain: string;
    /** The domain's definition (`virsh dumpxml`) when the caller already asked for it (definition.ts). */
    definition?: Promise<string>;
    uri?: string;
    level: RequestedLevel;
    /** stream: virtnbdbackup's stream format; raw: a full-size sparse image (full/copy only). */
    type: "stream" | "raw";
    output: string;
    /** The host's checkpoint registry; tests give one in a directory of their own. */
    registry?: CheckpointRegistry;
    /** lz4 level, or false. */
    compress: false | number;
    /** Take extents from `nbdinfo --map` instead of libnbd block status. */
    qemuExtents?: boolean;
    /** Only these disks (targets), when given. */
    include?: string[];
    exclude?: string[];
    /** Back up raw-format disks too (in full; full/copy only). */
    raw?: boolean;
    /** Start a shut-off VM paused for the backup, and stop it after. */
    startDomain?: boolean;
    /** Disks copied at once. */
    workers?: number;
    /** Where libvirt keeps the fleecing overlays during the job. */
    scratchDir?: string;
    /** Guest mount points to freeze; undefined freezes all, [] none. */
    freezeMountpoints?: string[];
    /** NBD connections per disk (when the server allows multi-conn). */
    connections?: number;
    /** Requests in flight per disk. */
    inFlight?: number;
    /**
     * inc/diff of a running VM: make no backup (and change nothing) when libvirt estimates fewer bytes
     * changed since the parent checkpoint than this.
     */
    threshold?: number;
    /** Only estimate the bytes changed since the parent checkpoint (inc/diff of a running VM); make no backup. */
    estimateOnly?: boolean;
    signal?: AbortSignal;
    onEvent?: (event: BackupEvent) => void;
    now?: Date;
}

export type BackupEvent =
    | { event: "plan"; domain: string; level: Level; checkpoint: string; parent: string; online: boolean; disks: { dev: string; size: number }[] }
    | { event: "disk"; dev: string; file: string; total: number; size: number }
    | { event: "progress"; dev: string; done: number; total: number }
    | { event: "disk-done"; dev: string; file: string; bytes: number; fileBytes: number }
    | { event: "info"; message: string }
    | { event: "warning"; message: string };

/** Where a run's events go. */
export type Note = (event: BackupEvent) => void;

/** Where each disk can be read: an NBD unix socket and export name. */
export interface DiskExport {
    socket: string;
    exportName: string;
    /** Meta context holding the changes for inc/diff. */
    dirtyContext?: string;
}

export function errorMessage(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
}
