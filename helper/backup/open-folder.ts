// SPDX-License-Identifier: GPL-3.0-or-later
// The first phase of a backup run, under the VM's lock: the folder found trusted (made when missing), what
// dead runs left in it cleaned up (a consolidation's switch, a backup's journaled files), this run's journal
// started and the chain read. Undo: the journal rolls back, the folders this run made go.
import path from "node:path";
import { recoverConsolidationLocked } from "../consolidate/journal.ts";
import { prepareFolder, readFolder, removeMadeFolder } from "./folder.ts";
import { RunJournal } from "./journal.ts";
import type { BackupRun, OpenFolder } from "./run-context.ts";

export async function openFolder(run: BackupRun): Promise<OpenFolder> {
    const { folder: output, made } = prepareFolder(path.resolve(run.options.output));
    run.undo.onFailure(() => removeMadeFolder(output, made));
    // A consolidation killed in its switch is finished (or its staged files removed) before the chain is read,
    // under the folder's exclusive lock as a consolidation's own switch is (a mapping starting meanwhile waits).
    const recovered = await recoverConsolidationLocked(output, { signal: run.options.signal });
    if (recovered)
        run.emit({ event: "warning", message: recovered === "forward" ? "finished the switch of a consolidation that died" : "removed the files of a consolidation that died" });
    // Everything made by this run is journaled first and undone if it fails (or by the next run, if it dies).
    const { journal, rolledBack, deadCheckpoint } = RunJournal.open(output);
    run.undo.onFailure(() => journal.rollBack());
    if (rolledBack.length)
        run.emit({ event: "warning", message: `removed files of a backup run that died: ${rolledBack.join(", ")}` });
    return { output, made, journal, state: readFolder(output, run.domain.name), deadCheckpoint };
}

/** A run that made no backup (an estimate, a threshold not reached) leaves the folder as it was. */
export function closeUnchanged(folder: OpenFolder): void {
    folder.journal.commit();
    removeMadeFolder(folder.output, folder.made);
}
