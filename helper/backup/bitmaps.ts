// SPDX-License-Identifier: GPL-3.0-or-later
// Is a checkpoint's dirty bitmap still trustworthy on every disk? QEMU marks a bitmap "inconsistent"
// when the VM died without saving it (qemu killed, host crash); a replaced disk has none at all.
// An incremental built on such a bitmap would silently miss changes.
import { virsh } from "../libvirt/virsh.ts";
import { qemuImgInfo } from "../tools/run-tool.ts";

export interface BlockNode {
    "node-name"?: string;
    drv?: string;
    file?: string;
    "dirty-bitmaps"?: { name: string; inconsistent?: boolean; recording?: boolean }[];
}

export interface BitmapProblem {
    disk: string;
    reason: string;
}

/** Pure: the problems with bitmap `name` on the format nodes of the given disk files. */
export function bitmapProblems(nodes: BlockNode[], disks: { target: string; path: string }[], name: string): BitmapProblem[] {
    const problems: BitmapProblem[] = [];
    for (const disk of disks) {
        const node = nodes.find(n => n.file === disk.path && n.drv === "qcow2");
        if (!node) {
            problems.push({ disk: disk.target, reason: "its qcow2 node was not found" });
            continue;
        }
        const bitmap = node["dirty-bitmaps"]?.find(b => b.name === name);
        if (!bitmap)
            problems.push({ disk: disk.target, reason: `bitmap ${name} is missing` });
        else if (bitmap.inconsistent)
            problems.push({ disk: disk.target, reason: `bitmap ${name} is inconsistent (the VM was not shut down cleanly)` });
        else if (bitmap.recording === false)
            problems.push({ disk: disk.target, reason: `bitmap ${name} is not recording` });
    }
    return problems;
}

/** Checks bitmap `name` on a running domain's disks through QMP; `asked`: QEMU's block node list, asked before. */
export async function checkBitmaps(domain: string, disks: { target: string; path: string }[], name: string, uri?: string, asked?: BlockNode[]): Promise<BitmapProblem[]> {
    const nodes = asked ?? parseBlockNodes(await virsh(blockNodesArgs(domain), { uri }));
    if (!nodes)
        throw new Error("QEMU gave no block node list");
    return bitmapProblems(nodes, disks, name);
}

/** The virsh command asking QEMU for its block nodes (their dirty bitmaps). */
export function blockNodesArgs(domain: string): string[] {
    return ["qemu-monitor-command", "--domain", domain, JSON.stringify({ execute: "query-named-block-nodes", arguments: { flat: true } })];
}

/** Pure: the block node list of QEMU's reply, or undefined when the text is no such reply. */
export function parseBlockNodes(out: string): BlockNode[] | undefined {
    try {
        const reply = JSON.parse(out) as { return?: BlockNode[] };
        return Array.isArray(reply?.return) ? reply.return : undefined;
    } catch {
        return undefined;
    }
}

interface QemuImgInfo {
    "format-specific"?: { data?: { bitmaps?: { name: string; flags?: string[] }[] } };
}

/** Pure: problems with bitmap `name` in `qemu-img info --output json` of a shut-off disk. */
export function offlineBitmapProblem(info: QemuImgInfo, name: string): string | undefined {
    const bitmap = info["format-specific"]?.data?.bitmaps?.find(b => b.name === name);
    if (!bitmap)
        return `bitmap ${name} is missing`;
    // "in-use" on a closed image: QEMU died without saving it.
    if (bitmap.flags?.includes("in-use"))
        return `bitmap ${name} is inconsistent (the VM was not shut down cleanly)`;
    return undefined;
}

/** Checks bitmap `name` in the images of a shut-off domain. */
export async function checkOfflineBitmaps(disks: { target: string; path: string }[], name: string): Promise<BitmapProblem[]> {
    const problems: BitmapProblem[] = [];
    for (const disk of disks) {
        const out = await qemuImgInfo(disk.path);
        const problem = offlineBitmapProblem(JSON.parse(out) as QemuImgInfo, name);
        if (problem)
            problems.push({ disk: disk.target, reason: problem });
    }
    return problems;
}
