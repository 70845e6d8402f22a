// SPDX-License-Identifier: GPL-3.0-or-later
// What the phases of one backup run share (backup.ts runs them in order): the request, the VM and its
// lock, the folder and its journal, where events go, and the undo stack each phase pushes onto.
import type { DomainConfig } from "../libvirt/domain-xml.ts";
import type { UndoStack } from "../run/undo-stack.ts";
import type { CheckpointRegistry } from "./checkpoint-registry.ts";
import type { JournalCheckpoint, RunJournal } from "./journal.ts";
import type { FolderState } from "./levels.ts";
import type { JobLock } from "./lock.ts";
import type { RunLog } from "./run-log.ts";
import type { BackupOptions, Note } from "./types.ts";

export interface BackupRun {
    options: BackupOptions;
    uri: string | undefined;
    /** When the run started, as its files record it. */
    now: Date;
    registry: CheckpointRegistry;
    domain: DomainConfig;
    /** The VM's definition as loaded (saved beside the data). */
    vmConfig: string;
    /** libvirt said the VM runs when it was loaded (asked again under the lock: domainStatus). */
    active: boolean;
    lock: JobLock;
    /** Events for the caller only (what undo steps report). */
    emit: Note;
    /** Events for the caller and the run's log, once it is open. */
    note: Note;
    log: RunLog;
    undo: UndoStack;
}

/** The backup folder, once opened (open-folder.ts). */
export interface OpenFolder {
    /** Its real path, found trusted: nothing re-resolves it after. */
    output: string;
    /** The topmost folder this run made, if any (removed again when the run makes no backup). */
    made: string | undefined;
    journal: RunJournal;
    state: FolderState;
    /** The checkpoint a dead earlier run was creating, from its journal. */
    deadCheckpoint?: JournalCheckpoint;
}
