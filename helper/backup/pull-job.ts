// libvirt's pull-mode backup job: start it (optionally with a new checkpoint), find a running one,
// end it. Pull mode has no completion event: the job runs until domjobabort.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { virsh } from "../libvirt/virsh.ts";

export interface PullJobSpec {
    domain: string;
    uri?: string;
    /** `<domainbackup>` XML. */
    backupXml: string;
    /** `<domaincheckpoint>` XML, when the job creates a checkpoint. */
    checkpointXml?: string;
}

/** Where the job's NBD socket lives: fixed per domain, so a killed run's socket is found again. */
export function socketPath(domainUuid: string): string {
    return `/var/tmp/virtnbdbackup.${domainUuid}.sock`;
}

export async function startPullJob(spec: PullJobSpec): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "virtnbdbackup-job-"));
    try {
        const backupFile = path.join(dir, "backup.xml");
        fs.writeFileSync(backupFile, spec.backupXml);
        const args = ["backup-begin", "--domain", spec.domain, "--backupxml", backupFile];
        if (spec.checkpointXml) {
            const checkpointFile = path.join(dir, "checkpoint.xml");
            fs.writeFileSync(checkpointFile, spec.checkpointXml);
            args.push("--checkpointxml", checkpointFile);
        }
        await virsh(args, { uri: spec.uri });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** The operation of the domain's running job ("Backup", …), or undefined when none runs. */
export async function runningJob(domain: string, uri?: string): Promise<string | undefined> {
    const out = await virsh(["domjobinfo", "--domain", domain], { uri });
    const type = /^Job type:\s*(.+)$/m.exec(out)?.[1]?.trim();
    if (!type || type === "None")
        return undefined;
    return /^Operation:\s*(.+)$/m.exec(out)?.[1]?.trim() ?? type;
}

/**
 * Ends the running job and removes its socket (QEMU leaves the file behind). A job that is already
 * gone is not an error.
 */
export async function endJob(domain: string, uri?: string, socket?: string): Promise<void> {
    try {
        await virsh(["domjobabort", "--domain", domain], { uri });
    } catch (err) {
        if (await runningJob(domain, uri).catch(() => "unknown") !== undefined)
            throw err;
    }
    if (socket)
        fs.rmSync(socket, { force: true });
}
