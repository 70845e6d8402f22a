// SPDX-License-Identifier: GPL-3.0-or-later
// Made-up backup files of one folder for the restore unit tests: meta frames with dates one minute apart
// in the order they are made, named as the backup tool names them.
import type { BackupFile } from "../../../helper/restore/chain.ts";
import type { StreamMeta } from "../../../helper/format/index.ts";

let clock = Date.parse("2026-01-01T10:00:00");

export function meta(over: Partial<StreamMeta>): StreamMeta {
    clock += 60_000;
    const d = new Date(clock);
    const p = (n: number) => String(n).padStart(2, "0");
    return {
        virtualSize: 1 << 20, dataSize: 0,
        date: `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`,
        diskName: "vda", diskFormat: "qcow2", checkpointName: "virtnbdbackup.0", compressed: false,
        compressionMethod: "lz4", parentCheckpoint: "", incremental: false, streamVersion: 2, ...over,
    };
}

export const full = (dev = "vda"): BackupFile => ({ name: `${dev}.full.data`, dev, level: "full", ident: null, meta: meta({ diskName: dev }) });

export const inc = (n: number, dev = "vda", over: Partial<StreamMeta> = {}): BackupFile => ({
    name: `${dev}.inc.virtnbdbackup.${n}.data`, dev, level: "inc", ident: `virtnbdbackup.${n}`,
    meta: meta({ diskName: dev, checkpointName: `virtnbdbackup.${n}`, parentCheckpoint: `virtnbdbackup.${n - 1}`, incremental: true, ...over }),
});

/** A diff taken while checkpoint `parent` was the newest: it names the next index. */
export const diff = (parent: number, time: number, dev = "vda"): BackupFile => ({
    name: `${dev}.diff.${time}.data`, dev, level: "diff", ident: String(time),
    meta: meta({ diskName: dev, checkpointName: `virtnbdbackup.${parent + 1}`, parentCheckpoint: `virtnbdbackup.${parent}`, incremental: true }),
});
