// SPDX-License-Identifier: GPL-3.0-or-later
// libvirt's pull-mode backup job: start it (optionally with a new checkpoint), find a running one,
// end it. Pull mode has no completion event: the job runs until domjobabort.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { cleanMessage, classify, LibvirtError, virsh, virshBatch, DEFAULT_URI } from "../libvirt/virsh.ts";
import { attr, child, parseRoot } from "../libvirt/xml.ts";

export interface PullJobSpec {
    domain: string;
    uri?: string;
    /** `<domainbackup>` XML. */
    backupXml: string;
    /** `<domaincheckpoint>` XML, when the job creates a checkpoint. */
    checkpointXml?: string;
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
    return parseJobInfo(await virsh(jobInfoArgs(domain), { uri })) ?? undefined;
}

export function jobInfoArgs(domain: string): string[] {
    return ["domjobinfo", "--domain", domain];
}

/**
 * Pure: the running job's operation from `virsh domjobinfo`'s output, undefined when none runs, null when
 * the text is no domjobinfo answer at all (a command of a batch that failed printed nothing).
 */
export function parseJobInfo(out: string): string | undefined | null {
    const type = /^Job type:\s*(.+)$/m.exec(out)?.[1]?.trim();
    if (type === undefined)
        return null;
    if (!type || type === "None")
        return undefined;
    return /^Operation:\s*(.+)$/m.exec(out)?.[1]?.trim() ?? type;
}

/**
 * The domain's running backup job with its unix socket (what tells whose job it is; none for push mode
 * or TCP), or undefined when no backup job runs.
 */
export async function backupJob(domain: string, uri?: string): Promise<{ socket?: string } | undefined> {
    let xml: string;
    try {
        xml = await virsh(["backup-dumpxml", "--domain", domain], { uri });
    } catch (err) {
        if (await runningJob(domain, uri) !== "Backup")
            return undefined;  // none, or it ended meanwhile
        throw err;
    }
    const server = child(parseRoot(xml, "domainbackup"), "server");
    return { socket: attr(server, "transport") === "unix" ? attr(server, "socket") ?? undefined : undefined };
}

/** How long a run waits for libvirt to tear down a job it asked to end. */
const JOB_END_TIMEOUT_MS = 30_000;

/**
 * Ends the running job and returns once libvirt shows no job on the domain (domjobabort may return
 * before the job is torn down; the next run would find it still there). A job that is already gone is
 * not an error.
 */
export async function endJob(domain: string, uri?: string, timeoutMs = JOB_END_TIMEOUT_MS): Promise<void> {
    // domjobabort and the first look at the job in one virsh process: libvirt has mostly torn the job down
    // by the time domjobabort returns, so this one run is usually all it takes.
    const abortArgs = ["domjobabort", "--domain", domain];
    const { outputs, stderr } = await virshBatch([abortArgs, jobInfoArgs(domain)], { uri });
    const after = parseJobInfo(outputs[1] ?? "");
    if (after === undefined)
        return;  // gone, whatever domjobabort said
    if (after === null)
        return endJobAlone(domain, uri, timeoutMs);  // the job's state is unknown: one call at a time
    if (stderr.trim() !== "")
        throw new LibvirtError(cleanMessage(stderr), classify(stderr), uri ?? DEFAULT_URI, abortArgs);  // the job runs on
    await waitForNoJob(domain, uri, timeoutMs);
}

async function endJobAlone(domain: string, uri: string | undefined, timeoutMs: number): Promise<void> {
    try {
        await virsh(["domjobabort", "--domain", domain], { uri });
    } catch (err) {
        if (await runningJob(domain, uri).catch(() => "unknown") !== undefined)
            throw err;
        return;
    }
    await waitForNoJob(domain, uri, timeoutMs);
}

async function waitForNoJob(domain: string, uri: string | undefined, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let wait = 20; await runningJob(domain, uri) !== undefined; wait = Math.min(wait * 2, 500)) {
        if (Date.now() > deadline)
            throw new Error(`the backup job of ${domain} did not end within ${Math.round(timeoutMs / 1000)} s of domjobabort (see: virsh domjobinfo ${domain})`);
        await new Promise(resolve => setTimeout(resolve, wait));
    }
}
