// SPDX-License-Identifier: GPL-3.0-or-later
// A shut-off VM's disk exported read-only over NBD by qemu-nbd, for copy and offline diff backups.
import { QemuNbdServer } from "../engine/qemu-nbd.ts";

export interface OfflineExportSpec {
    image: string;
    format: string;
    exportName: string;
    /** Export this persistent bitmap as qemu:dirty-bitmap:<name>. */
    bitmap?: string;
}

export interface OfflineExport {
    socket: string;
    stop(): Promise<void>;
}

export async function startOfflineExport(spec: OfflineExportSpec): Promise<OfflineExport> {
    const server = await QemuNbdServer.start(spec.image, {
        format: spec.format,
        exportName: spec.exportName,
        readOnly: true,
        bitmap: spec.bitmap,
        cache: "none",
    });
    return { socket: server.socket, stop: () => server.stop() };
}
