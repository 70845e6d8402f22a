// SPDX-License-Identifier: GPL-3.0-or-later
// A libvirt pull-mode backup job started by hand, for the floor: what copying the export costs with stock
// tools (no checkpoint), and what starting and ending a job like ours costs (incremental, new checkpoint).
// The socket and scratch file live under /var/tmp, where QEMU may create them.
import fs from "node:fs";
import path from "node:path";
import { run, runOk } from "../../test/lib/exec.ts";
import { LIBVIRT_URI } from "../../test/lib/libvirtd.ts";
import { measureOk } from "./measure.ts";

export interface PullJob {
    /** NBD URI of the disk's export. */
    uri: string;
    /** Wall time of `virsh backup-begin`. */
    beginMs: number;
    /** Ends the job (virsh domjobabort) and removes its files; resolves with the abort's wall time. */
    stop(): Promise<number>;
}

let jobCounter = 0;

/** Starts a pull-mode job exporting disk `dev` of `domain`; `workDir` holds the job XML. */
export async function startPullJob(domain: string, dev: string, workDir: string): Promise<PullJob> {
    const base = `/var/tmp/vnbt-bench-${process.pid}-${++jobCounter}`;
    const socket = `${base}.sock`;
    const scratch = `${base}-${dev}.scratch`;
    const xmlFile = path.join(workDir, `pull-job-${jobCounter}.xml`);
    fs.writeFileSync(xmlFile, `<domainbackup mode='pull'>
  <server transport='unix' socket='${socket}'/>
  <disks><disk name='${dev}' backup='yes' type='file'><scratch file='${scratch}'/></disk></disks>
</domainbackup>
`);
    const removeFiles = () => {
        for (const f of [socket, scratch, xmlFile])
            fs.rmSync(f, { force: true });
    };
    const t0 = performance.now();
    try {
        await runOk("virsh", ["-c", LIBVIRT_URI, "backup-begin", "--domain", domain, "--backupxml", xmlFile]);
    } catch (e) {
        removeFiles();
        throw e;
    }
    const beginMs = performance.now() - t0;
    let stopped = false;
    return {
        uri: `nbd+unix:///${dev}?socket=${socket}`,
        beginMs,
        async stop() {
            if (stopped)
                return 0;
            stopped = true;
            const t1 = performance.now();
            const r = await run("virsh", ["-c", LIBVIRT_URI, "domjobabort", "--domain", domain]);
            const ms = performance.now() - t1;
            removeFiles();
            if (r.code !== 0)
                throw new Error(`virsh domjobabort ${domain}: ${r.stderr.trim()}`);
            return ms;
        },
    };
}

/** What `virsh backup-begin` + `virsh domjobabort` cost, both run under GNU time as our CLI is. */
export interface BeginAbort {
    wallMs: number;
    /** User + system CPU seconds of both virsh processes. */
    cpuSeconds: number | null;
    peakRss: number | null;
}

/**
 * The floor of a run with nothing to copy: a pull-mode job of disk `dev` as our inc starts it — incremental
 * from checkpoint `incremental`, creating checkpoint `checkpoint` (a dirty bitmap on `dev`), a scratch file —
 * then ended at once. The new checkpoint is left to the caller (untimed; deleting it merges its bitmap back).
 */
export async function beginAndAbort(domain: string, dev: string, workDir: string, incremental: string, checkpoint: string): Promise<BeginAbort> {
    const base = `/var/tmp/vnbt-bench-${process.pid}-${++jobCounter}`;
    const socket = `${base}.sock`;
    const scratch = `${base}-${dev}.scratch`;
    const backupXml = path.join(workDir, `begin-abort-${jobCounter}.xml`);
    const checkpointXml = path.join(workDir, `begin-abort-${jobCounter}-checkpoint.xml`);
    fs.writeFileSync(backupXml, `<domainbackup mode='pull'>
  <incremental>${incremental}</incremental>
  <server transport='unix' socket='${socket}'/>
  <disks><disk name='${dev}' backup='yes' type='file' exportname='${dev}'><scratch file='${scratch}'/></disk></disks>
</domainbackup>
`);
    fs.writeFileSync(checkpointXml, `<domaincheckpoint>
  <name>${checkpoint}</name>
  <description>bench floor</description>
  <disks><disk name='${dev}' checkpoint='bitmap'/></disks>
</domaincheckpoint>
`);
    try {
        const begin = await measureOk("virsh backup-begin", "virsh", ["-c", LIBVIRT_URI, "backup-begin", "--domain", domain, "--backupxml", backupXml, "--checkpointxml", checkpointXml]);
        const abort = await measureOk("virsh domjobabort", "virsh", ["-c", LIBVIRT_URI, "domjobabort", "--domain", domain]);
        const sum = (a: number | null, b: number | null) => a === null || b === null ? null : a + b;
        const max = (a: number | null, b: number | null) => a === null || b === null ? null : Math.max(a, b);
        return { wallMs: begin.wallMs + abort.wallMs, cpuSeconds: sum(begin.cpuSeconds, abort.cpuSeconds), peakRss: max(begin.peakRss, abort.peakRss) };
    } catch (e) {
        await run("virsh", ["-c", LIBVIRT_URI, "domjobabort", "--domain", domain]);
        throw e;
    } finally {
        for (const f of [socket, scratch, backupXml, checkpointXml])
            fs.rmSync(f, { force: true });
    }
}

/** Bytes of the export that hold data (neither hole nor zero), from `nbdinfo --map`. */
export async function dataBytesOf(uri: string): Promise<number> {
    const r = await runOk("nbdinfo", ["--map", uri]);
    let data = 0;
    for (const line of r.stdout.split("\n")) {
        // "  offset  length  type  description"; type bit 1 = hole, bit 2 = zero.
        const m = /^\s*(\d+)\s+(\d+)\s+(\d+)/.exec(line);
        if (m && (Number(m[3]) & 2) === 0)
            data += Number(m[2]);
    }
    return data;
}
