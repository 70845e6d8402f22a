// SPDX-License-Identifier: GPL-3.0-or-later
// A backup chain of the real guest with known content at each point: a full, then files changed in the
// running guest (through its agent), then an inc. What each point must show is known per guest path, and
// where that path lives: which disk, which volume of it (as browse-open names them), which path there.
import { ourBackup } from "./backup-cli.ts";
import { GUEST_FILES } from "./guest-image.ts";
import type { GuestVm } from "./guest-vm.ts";

/** The files the chain changes between its full (virtnbdbackup.0) and its inc (virtnbdbackup.1). */
export const GUEST_CHANGES: Record<string, string> = {
    "/srv/files/hello.txt": "hello, changed after the full backup\n",
    "/data/readme.txt": "the data disk's file, changed after the full backup\n",
};

/** The content of a known guest file at point 0 (the full) or 1 (the inc). */
export function contentAt(point: 0 | 1, guestPath: string): string {
    const content = point === 1 && guestPath in GUEST_CHANGES ? GUEST_CHANGES[guestPath] : GUEST_FILES[guestPath];
    if (content === undefined)
        throw new Error(`${guestPath} is not a known guest file`);
    return content;
}

/** Where a guest path lives: vda's partition 1 (ext4, /) or vdb's whole disk (xfs, /data). */
export function guestVolumePath(guestPath: string): { dev: "vda" | "vdb"; volume: "p1" | "disk"; path: string } {
    return guestPath.startsWith("/data/")
        ? { dev: "vdb", volume: "disk", path: guestPath.slice("/data".length) }
        : { dev: "vda", volume: "p1", path: guestPath };
}

/** An event of `virtnbdbackup --json`. */
export interface BackupEvent { event: string; message?: string }

/** Our backup with --json; its events. Fails on a non-zero exit. */
export async function backUp(vmName: string, level: string, dir: string): Promise<BackupEvent[]> {
    const r = await ourBackup(["-d", vmName, "-l", level, "-o", dir, "--json"]);
    if (r.code !== 0)
        throw new Error(`virtnbdbackup -l ${level} of ${vmName} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout.split("\n").filter(Boolean).map(l => JSON.parse(l) as BackupEvent);
}

/** The messages of one kind ("info", "warning") among a run's events. */
export function messages(events: BackupEvent[], kind: string): string[] {
    return events.filter(e => e.event === kind).map(e => e.message ?? "");
}

/** Full, GUEST_CHANGES written in the guest (synced), inc; the events of both runs. */
export async function backUpGuestChain(guest: GuestVm, dir: string): Promise<{ full: BackupEvent[]; inc: BackupEvent[] }> {
    const full = await backUp(guest.name, "full", dir);
    for (const [p, content] of Object.entries(GUEST_CHANGES))
        await guest.writeFile(p, content);
    const inc = await backUp(guest.name, "inc", dir);
    return { full, inc };
}
