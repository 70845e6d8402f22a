// SPDX-License-Identifier: GPL-3.0-or-later
// The last phase of a backup run, its commit: the data is safe, now it is recorded. The job ends (or the
// exports stop) while the sidecars are written (VM definition, qemu-img info, boot files); then, only once
// the job ended well, the new checkpoint's definition, the chain's checkpoint list and the host's registry,
// so an inc never trusts an unfinished run; last the journal commits and the files are the run's for good.
import path from "node:path";
import { checkpointListFileName } from "../format/index.ts";
import { parseCheckpointIdentity, type DiskConfig } from "../libvirt/domain-xml.ts";
import type { CheckedPlan } from "./chain-check.ts";
import type { CheckpointRegistry } from "./checkpoint-registry.ts";
import { checkpointXml } from "./checkpoints.ts";
import type { ExportedDisks } from "./disk-export.ts";
import { makeCheckpointDir, qcowInfos, saveSidecars, writeFileAtomic } from "./folder.ts";
import { descriptionToken } from "./ownership.ts";
import type { BackupRun, OpenFolder } from "./run-context.ts";
import { errorMessage, type Note } from "./types.ts";

/** What a run's records need from libvirt and qemu-img; none of it changes when the job ends. */
export interface Records {
    qcowInfos: Map<string, string>;
    /** The new checkpoint's definition, saved in checkpoints/ (it exists once the job started). */
    checkpointXml?: string;
}

/**
 * Asks for what the records need as soon as it is known (the checkpoint exists once the job started): two short
 * processes beside the copy, so that the end waits only for the job's end. Undo waits for them: nothing is
 * undone while they still ask.
 */
export function fetchRecords(run: BackupRun, disks: DiskConfig[], checkpoint: string | undefined): Promise<Records> {
    const records = (async () => {
        const [infos, xml] = await Promise.all([qcowInfos(disks), checkpoint ? checkpointXml(run.domain.name, checkpoint, run.uri) : undefined]);
        return { qcowInfos: infos, checkpointXml: xml };
    })();
    records.catch(() => {});
    run.undo.onFailure(() => records.then(() => {}, () => {}));
    return records;
}

export async function commitRun(run: BackupRun, folder: OpenFolder, { plan, fallback, checkpointDir }: CheckedPlan, exported: ExportedDisks, records: Promise<Records>): Promise<void> {
    const { domain } = run;
    const { output, journal } = folder;
    await settleAll([exported.end(), records.then(r => saveSidecars(output, domain, plan, run.vmConfig, r.qcowInfos, journal))]);
    const created = exported.createdCheckpoint;
    if (created) {
        makeCheckpointDir(checkpointDir);
        const xml = (await records).checkpointXml!;
        writeFileAtomic(path.join(checkpointDir, `${created}.xml`), xml);
        const chain = folder.state.checkpoints;
        const list = plan.level === "full" && !fallback ? [created] : [...chain, created];
        const listFile = path.join(output, checkpointListFileName(domain.name));
        journal.willReplace(listFile);
        writeFileAtomic(listFile, JSON.stringify(list));
        recordCheckpoint(run.registry, domain.uuid, xml, output, run.note);
        exported.keepCheckpoint();
    }
    journal.commit();
}

/** The host's registry learns the new checkpoint (see checkpoint-registry.ts); failing that is reported, not fatal. */
function recordCheckpoint(registry: CheckpointRegistry, vmUuid: string, xml: string, folder: string, note: Note) {
    try {
        const { name, creationTime, description } = parseCheckpointIdentity(xml);
        const token = descriptionToken(description);
        registry.record(vmUuid, name, { creationTime, ...(token ? { token } : {}), folder });
    } catch (err) {
        note({ event: "warning", message: `the checkpoint registry was not updated: ${errorMessage(err)}` });
    }
}

/** Waits for all, then throws the first failure: the undo starts only once nothing runs. */
async function settleAll(steps: Promise<unknown>[]): Promise<void> {
    const settled = await Promise.allSettled(steps);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed)
        throw failed.reason;
}
