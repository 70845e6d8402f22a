// SPDX-License-Identifier: GPL-3.0-or-later
// The options of a restored qcow2 image: those of the source disk, from the `qemu-img info --output json`
// saved beside its backup (`<dev>.<ident>.qcow.json`), else qemu-img create's defaults. The file comes
// from the backup folder: what qemu could not open, or we cannot write, is refused with its name.

export interface Qcow2Params {
    /** 2 (compat 0.10) or 3 (compat 1.1). */
    version: 2 | 3;
    /** log2 of the cluster size: 9 (512 bytes) to 21 (2 MiB). */
    clusterBits: number;
    /** log2 of the refcount width: 0 (1 bit) to 6 (64 bits); always 4 for version 2. */
    refcountOrder: number;
    lazyRefcounts: boolean;
    extendedL2: boolean;
    /** 0 zlib, 1 zstd (for compressed clusters written later by others; a restore writes none). */
    compressionType: 0 | 1;
}

/** What `qemu-img create -f qcow2` makes without options. */
export const DEFAULT_QCOW2: Qcow2Params = { version: 3, clusterBits: 16, refcountOrder: 4, lazyRefcounts: false, extendedL2: false, compressionType: 0 };

function log2Exact(n: unknown): number | undefined {
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n <= 0)
        return undefined;
    const bits = Math.log2(n);
    return Number.isInteger(bits) ? bits : undefined;
}

/** The image options from a saved `qemu-img info` (null: none saved). Throws on values qemu would refuse. */
export function qcow2Params(info: unknown): Qcow2Params {
    if (info === null || info === undefined)
        return { ...DEFAULT_QCOW2 };
    if (typeof info !== "object")
        throw new Error("not a qemu-img info object");
    const i = info as Record<string, unknown>;
    const data = ((i["format-specific"] as Record<string, unknown> | undefined)?.data ?? {}) as Record<string, unknown>;
    const p: Qcow2Params = { ...DEFAULT_QCOW2 };
    if (data.compat !== undefined) {
        if (data.compat === "0.10")
            p.version = 2;
        else if (data.compat !== "1.1")
            throw new Error(`unknown qcow2 compat level ${JSON.stringify(data.compat)}`);
    }
    if (i["cluster-size"] !== undefined) {
        const bits = log2Exact(i["cluster-size"]);
        if (bits === undefined || bits < 9 || bits > 21)
            throw new Error(`invalid qcow2 cluster size ${JSON.stringify(i["cluster-size"])} (a power of 2, 512 bytes to 2 MiB)`);
        p.clusterBits = bits;
    }
    if (data["refcount-bits"] !== undefined) {
        const order = log2Exact(data["refcount-bits"]);
        if (order === undefined || order > 6)
            throw new Error(`invalid qcow2 refcount width ${JSON.stringify(data["refcount-bits"])} (a power of 2, 1 to 64 bits)`);
        p.refcountOrder = order;
    }
    p.lazyRefcounts = data["lazy-refcounts"] === true;
    p.extendedL2 = data["extended-l2"] === true;
    if (data["compression-type"] !== undefined) {
        if (data["compression-type"] === "zstd")
            p.compressionType = 1;
        else if (data["compression-type"] !== "zlib")
            throw new Error(`unknown qcow2 compression type ${JSON.stringify(data["compression-type"])}`);
    }
    if (p.version === 2 && (p.refcountOrder !== 4 || p.lazyRefcounts || p.extendedL2 || p.compressionType !== 0))
        throw new Error("qcow2 compat 0.10 has 16-bit refcounts only, and no lazy refcounts, extended L2 entries or compression type");
    if (p.extendedL2 && p.clusterBits < 14)
        throw new Error("qcow2 extended L2 entries need clusters of 16 KiB or more");
    return p;
}
