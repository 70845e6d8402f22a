// A shut-off VM's disk exported read-only over NBD by qemu-nbd, for copy and offline diff backups.
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

export async function startOfflineExport(_spec: OfflineExportSpec): Promise<OfflineExport> {
    throw new Error("backups of shut-off VMs are not implemented yet");
}
