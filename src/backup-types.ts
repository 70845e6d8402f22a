// SPDX-License-Identifier: GPL-3.0-or-later
// The backup commands' answers and the job state file as the UI sees them: the helper's own
// declarations, type-only. src/helper-answer.ts checks each answer against them at run time.
export type {
    BackupJobState, ChainSummary, CheckFolderAnswer, RestoreCheckAnswer, RestoreJobResult, RestoreJobState, CancelAnswer, JobDisk, JobLevel, JobPhase, JobState, Level, NoJob, RequestedLevel, RestorePoint, RestorePointDisk,
    RestorePointList, SettingsAnswer, StartAnswer, VerifyAnswer, VerifyFile, VerifyProgress, VmSettings,
    HistoryAnswer, HistoryRecord, HistoryResult, HostSettingsAnswer, JobLogAnswer, VmBackupOverview,
} from "../helper/protocol/job-types";
export type { PruneAnswer, PrunedChain } from "../helper/jobs/prune";
export type { ConsolidateJobAnswer as ConsolidateAnswer } from "../helper/jobs/consolidate";
export type { MergeProgressLine as MergeProgress } from "../helper/cli/merge-run";
