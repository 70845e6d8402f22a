// SPDX-License-Identifier: GPL-3.0-or-later
// A new qcow2 image for a restore, planned before one byte is written: the disk's data ranges are known
// (the restore point's map), so every allocated guest cluster gets its host cluster up front, in guest
// order, after the metadata. A chunk of data then lands at one computed file offset (runs of allocated
// clusters are contiguous on the host too), and the metadata (header, L1, refcounts, L2) is generated at
// the end. Pure: no I/O. The format is qemu's docs/interop/qcow2.txt; qemu-img check and compare judge
// the result in the tests. Only fresh images: no backing file, snapshots, bitmaps, encryption or
// compressed clusters.
import type { Extent } from "../engine/endpoint.ts";
import type { Qcow2Params } from "./qcow2-params.ts";

const MAGIC = 0x514649fb;
/** L1/L2 entry bit 63: the cluster's refcount is exactly one. */
const COPIED_HIGH = 0x80000000;
const HEADER_V2 = 72;
/** Version 3 with the compression type byte, padded to 8 (what qemu writes). */
const HEADER_V3 = 112;
const INCOMPAT_COMPRESSION_TYPE = 1 << 3;
const INCOMPAT_EXTENDED_L2 = 1 << 4;
const COMPAT_LAZY_REFCOUNTS = 1;
/** Every subcluster allocated (its bytes are read from the host cluster, holes read as zeroes). */
const ALL_SUBCLUSTERS = 0xffffffff;

/** A piece of metadata: bytes to write at a file offset. */
export interface MetadataWrite {
    offset: number;
    data: Buffer;
}

export class Qcow2Layout {
    readonly clusterSize: number;
    /** Guest clusters per L2 table. */
    readonly l2Entries: number;
    readonly l1Size: number;
    readonly l1Clusters: number;
    readonly refTableClusters: number;
    readonly refBlocks: number;
    /** L1 indexes that have an L2 table, ascending; table k is at host cluster l2Base + k. */
    readonly l2Indexes: number[];
    readonly dataClusters: number;
    /** Host clusters in the file. */
    readonly totalClusters: number;
    private readonly l1Base = 1;
    private readonly refTableBase: number;
    private readonly refBlockBase: number;
    private readonly l2Base: number;
    private readonly dataBase: number;
    /** Runs of allocated guest clusters: first cluster, count, index of its first data cluster. */
    private readonly runStart: Float64Array;
    private readonly runCount: Float64Array;
    private readonly runHost: Float64Array;

    /** `extents`: the disk's ranges in offset order; those with data get clusters. */
    constructor(readonly params: Qcow2Params, readonly size: number, extents: readonly Extent[]) {
        if (!Number.isSafeInteger(size) || size <= 0)
            throw new Error(`invalid disk size ${size}`);
        const cs = this.clusterSize = 2 ** params.clusterBits;
        this.l2Entries = cs / (params.extendedL2 ? 16 : 8);
        const guestClusters = Math.ceil(size / cs);
        this.l1Size = Math.ceil(guestClusters / this.l2Entries);
        this.l1Clusters = Math.max(1, Math.ceil(this.l1Size * 8 / cs));

        const starts: number[] = [];
        const counts: number[] = [];
        const hosts: number[] = [];
        let allocated = 0;
        let previousEnd = 0;
        for (const e of extents) {
            if (e.offset < previousEnd || e.length < 0 || e.offset + e.length > size)
                throw new Error(`extent ${e.offset}+${e.length} is out of order or outside the disk (${size} bytes)`);
            previousEnd = e.offset + e.length;
            if (!e.data || e.length === 0)
                continue;
            const first = Math.floor(e.offset / cs);
            const end = Math.floor((e.offset + e.length - 1) / cs) + 1;
            const last = starts.length - 1;
            if (last >= 0 && first <= starts[last] + counts[last]) {
                const grow = end - (starts[last] + counts[last]);
                if (grow > 0) {
                    counts[last] += grow;
                    allocated += grow;
                }
                continue;
            }
            starts.push(first);
            counts.push(end - first);
            hosts.push(allocated);
            allocated += end - first;
        }
        this.runStart = Float64Array.from(starts);
        this.runCount = Float64Array.from(counts);
        this.runHost = Float64Array.from(hosts);
        this.dataClusters = allocated;

        const l2Indexes: number[] = [];
        for (let i = 0; i < starts.length; i++) {
            const from = Math.floor(starts[i] / this.l2Entries);
            const to = Math.floor((starts[i] + counts[i] - 1) / this.l2Entries);
            for (let j = Math.max(from, (l2Indexes.at(-1) ?? -1) + 1); j <= to; j++)
                l2Indexes.push(j);
        }
        this.l2Indexes = l2Indexes;

        // The refcount blocks count every cluster, themselves and the table included: grow until it fits.
        const refEntries = cs * 8 / this.refcountBits;
        const fixed = 1 + this.l1Clusters + l2Indexes.length + allocated;
        let blocks = 1;
        let table = 1;
        for (;;) {
            const total = fixed + table + blocks;
            const needBlocks = Math.ceil(total / refEntries);
            const needTable = Math.ceil(needBlocks * 8 / cs);
            if (needBlocks <= blocks && needTable <= table)
                break;
            blocks = Math.max(blocks, needBlocks);
            table = Math.max(table, needTable);
        }
        this.refBlocks = blocks;
        this.refTableClusters = table;
        this.refTableBase = this.l1Base + this.l1Clusters;
        this.refBlockBase = this.refTableBase + table;
        this.l2Base = this.refBlockBase + blocks;
        this.dataBase = this.l2Base + l2Indexes.length;
        this.totalClusters = this.dataBase + allocated;
    }

    get refcountBits(): number {
        return 2 ** this.params.refcountOrder;
    }

    /** Size of the image file. */
    get fileSize(): number {
        return this.totalClusters * this.clusterSize;
    }

    /**
     * File offset of guest bytes [offset, offset + length): they must lie in data extents the layout was
     * planned with, which are contiguous on the host as in the guest.
     */
    hostOffset(offset: number, length: number): number {
        const cs = this.clusterSize;
        const cluster = Math.floor(offset / cs);
        const run = this.runAt(cluster);
        const lastCluster = Math.floor((offset + Math.max(1, length) - 1) / cs);
        if (run < 0 || lastCluster >= this.runStart[run] + this.runCount[run])
            throw new Error(`guest range ${offset}+${length} is not in the image's planned data`);
        return (this.dataBase + this.runHost[run] + cluster - this.runStart[run]) * cs + offset % cs;
    }

    /** Index of the run holding guest cluster `cluster`, or -1. */
    private runAt(cluster: number): number {
        let lo = 0;
        let hi = this.runStart.length - 1;
        while (lo <= hi) {
            const mid = (lo + hi) >>> 1;
            if (this.runStart[mid] > cluster)
                hi = mid - 1;
            else if (this.runStart[mid] + this.runCount[mid] <= cluster)
                lo = mid + 1;
            else
                return mid;
        }
        return -1;
    }

    /** The metadata, one table at a time (a large image's L2 tables are never all in memory). */
    *metadata(): Generator<MetadataWrite> {
        yield { offset: 0, data: this.header() };
        yield { offset: this.l1Base * this.clusterSize, data: this.l1Table() };
        yield { offset: this.refTableBase * this.clusterSize, data: this.refcountTable() };
        for (let b = 0; b < this.refBlocks; b++)
            yield { offset: (this.refBlockBase + b) * this.clusterSize, data: this.refcountBlock(b) };
        let run = 0;
        for (let k = 0; k < this.l2Indexes.length; k++) {
            const { table, nextRun } = this.l2Table(this.l2Indexes[k], run);
            run = nextRun;
            yield { offset: (this.l2Base + k) * this.clusterSize, data: table };
        }
    }

    header(): Buffer {
        const p = this.params;
        const v3 = p.version === 3;
        const h = Buffer.alloc((v3 ? HEADER_V3 : HEADER_V2) + 8);  // + the end of the (empty) extension list
        h.writeUInt32BE(MAGIC, 0);
        h.writeUInt32BE(p.version, 4);
        // backing_file_offset (8) and backing_file_size (16): none
        h.writeUInt32BE(p.clusterBits, 20);
        writeU64(h, 24, this.size);
        // crypt_method (32): none
        h.writeUInt32BE(this.l1Size, 36);
        writeU64(h, 40, this.l1Base * this.clusterSize);
        writeU64(h, 48, this.refTableBase * this.clusterSize);
        h.writeUInt32BE(this.refTableClusters, 56);
        // nb_snapshots (60), snapshots_offset (64): none
        if (v3) {
            const incompatible = (p.extendedL2 ? INCOMPAT_EXTENDED_L2 : 0) | (p.compressionType !== 0 ? INCOMPAT_COMPRESSION_TYPE : 0);
            writeU64(h, 72, incompatible);
            writeU64(h, 80, p.lazyRefcounts ? COMPAT_LAZY_REFCOUNTS : 0);
            // autoclear_features (88): none
            h.writeUInt32BE(p.refcountOrder, 96);
            h.writeUInt32BE(HEADER_V3, 100);
            h.writeUInt8(p.compressionType, 104);
        }
        return h;
    }

    private l1Table(): Buffer {
        const t = Buffer.alloc(this.l1Clusters * this.clusterSize);
        this.l2Indexes.forEach((j, k) => writeEntry(t, j * 8, (this.l2Base + k) * this.clusterSize));
        return t;
    }

    private refcountTable(): Buffer {
        const t = Buffer.alloc(this.refTableClusters * this.clusterSize);
        for (let b = 0; b < this.refBlocks; b++)
            writeU64(t, b * 8, (this.refBlockBase + b) * this.clusterSize);
        return t;
    }

    /** Refcount block `b`: 1 for every cluster of the file it covers, 0 after the end. */
    private refcountBlock(b: number): Buffer {
        const bits = this.refcountBits;
        const entries = this.clusterSize * 8 / bits;
        const used = Math.min(entries, this.totalClusters - b * entries);
        const block = Buffer.alloc(this.clusterSize);
        for (let i = 0; i < used; i++) {
            if (bits < 8) {
                // Sub-byte entries: entry i of a byte starts at its least significant bit.
                const perByte = 8 / bits;
                block[Math.floor(i / perByte)] |= 1 << (i % perByte) * bits;
            } else {
                // Big-endian integer of bits / 8 bytes: its last byte holds the 1.
                block[(i + 1) * bits / 8 - 1] = 1;
            }
        }
        return block;
    }

    /** L2 table of L1 index `j`, filled from the runs starting at `fromRun`. */
    private l2Table(j: number, fromRun: number): { table: Buffer; nextRun: number } {
        const table = Buffer.alloc(this.clusterSize);
        const first = j * this.l2Entries;
        const end = first + this.l2Entries;
        const width = this.params.extendedL2 ? 16 : 8;
        let run = fromRun;
        while (run < this.runStart.length && this.runStart[run] + this.runCount[run] <= first)
            run++;
        for (let r = run; r < this.runStart.length && this.runStart[r] < end; r++) {
            const from = Math.max(first, this.runStart[r]);
            const to = Math.min(end, this.runStart[r] + this.runCount[r]);
            for (let c = from; c < to; c++) {
                const at = (c - first) * width;
                writeEntry(table, at, (this.dataBase + this.runHost[r] + c - this.runStart[r]) * this.clusterSize);
                if (width === 16)
                    table.writeUInt32BE(ALL_SUBCLUSTERS, at + 12);
            }
        }
        // The last run may go on into the next table.
        while (run < this.runStart.length && this.runStart[run] + this.runCount[run] <= end)
            run++;
        return { table, nextRun: run };
    }
}

/** An unsigned 64-bit big-endian value below 2^53. */
function writeU64(buf: Buffer, at: number, value: number): void {
    buf.writeUInt32BE(Math.floor(value / 2 ** 32), at);
    buf.writeUInt32BE(value % 2 ** 32, at + 4);
}

/** An L1/L2 entry: a cluster-aligned host offset with the "refcount is one" bit. */
function writeEntry(buf: Buffer, at: number, hostOffset: number): void {
    buf.writeUInt32BE((Math.floor(hostOffset / 2 ** 32) | COPIED_HIGH) >>> 0, at);
    buf.writeUInt32BE(hostOffset % 2 ** 32, at + 4);
}
