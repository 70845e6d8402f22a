// SPDX-License-Identifier: GPL-3.0-or-later
// Fragmented incrementals: a VM whose blank disk receives many small scattered guest writes between backups
// (always at the same places, new data each time), so the only data on the disk are those extents. The
// floor is then the same as for a full: a pull-mode export of the disk copied by nbdcopy, which copies
// exactly those extents. Our inc and the Python tool's inc copy the same extents (the dirty bitmap).
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { runOk } from "../../test/lib/exec.ts";
import { LIBVIRT_URI } from "../../test/lib/libvirtd.ts";
import type { TestVm } from "../../test/lib/vm.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** One fragmented case: `count` dirty extents of `lengths` (cycled), one every `stride` bytes. */
export interface FragmentedCase {
    /** Short name for the row labels, e.g. "4000 × 64 KiB". */
    name: string;
    diskSize: string;
    count: number;
    stride: number;
    /** Extent lengths, used in turn (one length: all extents alike). */
    lengths: number[];
}

/** Where the case's extents lie: [offset, length] pairs, sorted, within the disk. */
export function caseExtents(c: FragmentedCase): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < c.count; i++) {
        const length = c.lengths[i % c.lengths.length]!;
        if (length > c.stride)
            throw new Error(`${c.name}: an extent of ${length} bytes does not fit in a stride of ${c.stride}`);
        out.push([i * c.stride, length]);
    }
    return out;
}

/** Total bytes of the case's extents. */
export function caseBytes(c: FragmentedCase): number {
    return caseExtents(c).reduce((n, [, l]) => n + l, 0);
}

let round = 0;
const PIECE_FILES = 8;

/**
 * Writes new random data into every extent of the case, live, through the VM's QEMU (HMP qemu-io, as the
 * guest writing would look to the dirty bitmap), and the same into the disk's expected image. One virsh
 * process reads all the monitor commands from its stdin: thousands of writes take seconds, not minutes.
 */
export async function dirtyExtents(vm: TestVm, c: FragmentedCase): Promise<void> {
    const extents = caseExtents(c);
    const longest = Math.max(...c.lengths);
    // qemu-io takes data only from the start of a file: a few files of incompressible data, new each round,
    // used in turn, so neighbouring extents differ and -z has nothing to gain.
    const k = ++round;
    const pieces = Array.from({ length: PIECE_FILES }, () => crypto.randomBytes(longest));
    const files = pieces.map((_, i) => path.join(vm.dir, `.fragments-${process.pid}-${k}-${i}`));
    try {
        files.forEach((f, i) => fs.writeFileSync(f, pieces[i]!, { mode: 0o644 }));  // QEMU (libvirt-qemu) reads them
        const qdev = await vm.qdevPath(0);
        const hmp = (cmd: string) => `qemu-monitor-command --domain ${vm.name} --hmp 'qemu-io -d ${qdev} "${cmd}"'`;
        const lines = extents.map(([offset, length], i) => hmp(`write -q -s ${files[i % PIECE_FILES]} ${offset} ${length}`));
        lines.push(hmp("flush"));
        const r = await runOk("virsh", ["-q", "-c", LIBVIRT_URI], { input: lines.join("\n") + "\n", timeoutMs: 600_000 });
        // virsh echoes each command after its prompt; anything else is qemu-io's or the monitor's complaint.
        const complaint = r.stdout.split("\n").find(l => l.trim() !== "" && !l.startsWith("virsh #"));
        if (complaint !== undefined || r.stderr.trim() !== "")
            throw new Error(`live writes into ${vm.name} failed: ${complaint ?? r.stderr.trim().split("\n")[0]}`);
        const fd = fs.openSync(vm.expectedPath(0), "r+");
        try {
            extents.forEach(([offset, length], i) => fs.writeSync(fd, pieces[i % PIECE_FILES]!, 0, length, offset));
        } finally {
            fs.closeSync(fd);
        }
    } finally {
        for (const f of files)
            fs.rmSync(f, { force: true });
    }
}

export const FRAGMENTED_FULL: FragmentedCase[] = [
    { name: "4000 × 64 KiB", diskSize: "4G", count: 4000, stride: MiB, lengths: [64 * KiB] },
    { name: "16000 × 64 KiB", diskSize: "16G", count: 16000, stride: MiB, lengths: [64 * KiB] },
    // Runs of 4 KiB – 4 MiB: every size class at once, one every 8 MiB.
    { name: "500 mixed 4 KiB–4 MiB", diskSize: "4G", count: 500, stride: 8 * MiB, lengths: [4 * KiB, 64 * KiB, 512 * KiB, 16 * KiB, 4 * MiB, 128 * KiB, 1 * MiB, 8 * KiB] },
];

export const FRAGMENTED_SMOKE: FragmentedCase[] = [
    { name: "200 × 64 KiB", diskSize: "256M", count: 200, stride: MiB, lengths: [64 * KiB] },
];
