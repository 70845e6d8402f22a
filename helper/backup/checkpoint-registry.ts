// SPDX-License-Identifier: GPL-3.0-or-later
// The host's record of the checkpoints our runs made, per VM: name -> creation time, run token and the
// folder whose chain it belongs to. libvirt can forget a checkpoint (VM re-defined, `checkpoint-delete --metadata`) while
// its bitmap stays in the qcow2 image; a folder then redefines its checkpoint from its saved definition,
// which is right only when no other chain made a checkpoint of that name since. This registry says so.
// Root-only (directory 0700, files 0600), each file replaced atomically and made durable.
import fs from "node:fs";
import path from "node:path";
import { checkUuid } from "../jobs/paths.ts";
import { writeFileAtomic } from "../fs/safe-open.ts";
import type { RegistryEntry } from "./ownership.ts";

export const REGISTRY_DIR = "/var/lib/cockpit-virtnbdbackup/checkpoints";

export type RegistryEntries = Record<string, RegistryEntry>;

export class CheckpointRegistry {
    /** `dir` is for tests; runs on a host use REGISTRY_DIR. */
    constructor(readonly dir: string = REGISTRY_DIR) {}

    /** The VM's entries; none when it has no file yet. A damaged file counts as none (it is rewritten whole). */
    read(vmUuid: string): RegistryEntries {
        let raw: string;
        try {
            raw = fs.readFileSync(this.file(vmUuid), "utf8");
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "ENOENT")
                return {};
            throw err;
        }
        try {
            const parsed: unknown = JSON.parse(raw);
            const entries: RegistryEntries = {};
            if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
                for (const [name, e] of Object.entries(parsed as Record<string, Partial<RegistryEntry>>)) {
                    if (e && typeof e.creationTime === "string" && typeof e.folder === "string")
                        entries[name] = { creationTime: e.creationTime, folder: e.folder, ...(typeof e.token === "string" ? { token: e.token } : {}) };
                }
            }
            return entries;
        } catch {
            return {};
        }
    }

    /** Records a checkpoint a run of ours made (replacing an entry of the same name). */
    record(vmUuid: string, name: string, entry: RegistryEntry): void {
        const entries = this.read(vmUuid);
        entries[name] = entry;
        this.write(vmUuid, entries);
    }

    /** Forgets checkpoints that were deleted. */
    forget(vmUuid: string, names: string[]): void {
        const entries = this.read(vmUuid);
        if (!names.some(n => n in entries))
            return;
        for (const n of names)
            delete entries[n];
        this.write(vmUuid, entries);
    }

    private file(vmUuid: string): string {
        return path.join(this.dir, `${checkUuid(vmUuid)}.json`);
    }

    private write(vmUuid: string, entries: RegistryEntries): void {
        fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        const st = fs.lstatSync(this.dir);
        if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0)
            throw new Error(`${this.dir} is not a directory only its owner may change: the checkpoint registry is not written there`);
        const file = this.file(vmUuid);
        // A temporary name a killed run of the same pid left would block the fresh create.
        fs.rmSync(`${file}.tmp-${process.pid}`, { force: true });
        writeFileAtomic(file, JSON.stringify(entries, null, 1) + "\n");
    }
}
