// SPDX-License-Identifier: GPL-3.0-or-later
// The record of a VM started from a backup (one file per VM under /run/virtnbdbackup/instant, root's 0700):
// what the page shows, what Discard undoes, and what the next start removes when the process that holds
// the mapping died (SIGKILL, crash): its VM cannot run without the mapping, so it goes with the rest.
// A record names files that are removed and a process that is signalled: every path of the folder comes
// from instantDir(), which checks it first (root's, 0700, under folders only root can change), so a record
// is only ever one root wrote.
import fs from "node:fs";
import path from "node:path";
import { RUN_DIR, privateDir } from "../backup/run-dir.ts";
import { writeFileAtomic } from "../fs/safe-open.ts";
import { otherNamespaceMessage, processLiveness, processRunning, type ProcessRef } from "../tools/proc.ts";
// A name usable as a file name and as the record's key (libvirt allows more; the page offers these).
import { INSTANT_NAME_RE } from "../protocol/instant-rules.ts";

export const INSTANT_DIR = path.join(RUN_DIR, "instant");

export interface InstantRecord {
    /** The new VM's name (also the record's file name). */
    name: string;
    /** The VM whose backup it runs from, and the point. */
    domain: string;
    point: string;
    state: "starting" | "running" | "failed";
    error?: string;
    /** The process holding the mapping, and its start time (a reused pid is not taken for it). */
    pid: number;
    start: string | null;
    /** The holder's PID namespace (tools/proc.ts; absent in records of older versions). */
    pidNs?: number;
    /** Set once the VM is defined: only a VM of this uuid is removed as ours. */
    uuid?: string;
    /** Files this start made (overlays, boot file copies, the domain XML): removed with the VM. */
    files: string[];
    disks: { dev: string; overlay: string; uri: string; size: number }[];
    startedAt: number;
    /**
     * A Move to storage under way, written before it makes its first copy: its process, and the copies it
     * made so far (its own new files). When that process ends without finishing (SIGKILL), the next move,
     * discard or listing aborts its block jobs and removes these copies (instant-vm.ts abandonMove).
     */
    move?: { pid: number; start: string | null; pidNs?: number; files: string[] };
}

/** The records' folder, checked and made when missing (run-dir.ts's privateDir). */
function instantDir(): string {
    return privateDir(INSTANT_DIR);
}

/** The record's file name (pure): the VM's name must be usable as one. */
export function recordFileName(name: string, ext: "json" | "log" = "json"): string {
    if (!INSTANT_NAME_RE.test(name))
        throw new Error(`${JSON.stringify(name)} is not a usable name for a started-from-backup VM`);
    return `${name}.${ext}`;
}

export function recordFile(name: string): string {
    return path.join(instantDir(), recordFileName(name));
}

/** Where a detached holder writes its output (beside its record). */
export function holderLogFile(name: string): string {
    return path.join(instantDir(), recordFileName(name, "log"));
}

export function writeRecord(rec: InstantRecord): void {
    writeFileAtomic(recordFile(rec.name), JSON.stringify(rec) + "\n");
}

export function readRecord(name: string): InstantRecord | null {
    try {
        return JSON.parse(fs.readFileSync(recordFile(name), "utf8")) as InstantRecord;
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT")
            return null;
        throw err;
    }
}

export function listRecords(): InstantRecord[] {
    return fs.readdirSync(instantDir()).filter(n => n.endsWith(".json") && INSTANT_NAME_RE.test(n.slice(0, -5))).flatMap(n => {
        const rec = readRecord(n.slice(0, -5));
        return rec ? [rec] : [];
    });
}

/**
 * Rewrites the record with `change` applied to its current content; nothing when it is gone (its holder
 * removed it: a record is never written back after that).
 */
export function updateRecord(name: string, change: (rec: InstantRecord) => InstantRecord): InstantRecord | null {
    const rec = readRecord(name);
    if (!rec)
        return null;
    const changed = change(rec);
    writeRecord(changed);
    return changed;
}

/** Removes the record and (unless `keepLog`: it says why a start failed) the holder's output file. */
export function removeRecord(name: string, keepLog = false): void {
    fs.rmSync(recordFile(name), { force: true });
    if (!keepLog)
        fs.rmSync(holderLogFile(name), { force: true });
}

/**
 * Whether the process that wrote the record may still run (a zombie, killed and not yet reaped, does not;
 * one of another PID namespace is never taken for dead: processRunning).
 */
export function holderAlive(rec: InstantRecord): boolean {
    return processRunning(rec);
}

/** Whether the record names a move whose process may still run. */
export function moverAlive(rec: InstantRecord): boolean {
    return processRunning(rec.move);
}

/**
 * Throws when the record's holder or move runs in another PID namespace: its pids mean nothing here (a
 * signal would reach another process), and what it holds is not ours to remove.
 */
export function refuseOtherNamespace(rec: InstantRecord): void {
    for (const [what, ref] of [["its holder", rec], ["its move", rec.move]] as [string, ProcessRef | undefined][]) {
        if (ref && processLiveness(ref) === "other-namespace")
            throw new Error(otherNamespaceMessage(`${rec.name} (${what})`, ref));
    }
}
