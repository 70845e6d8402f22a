// SPDX-License-Identifier: GPL-3.0-or-later
// The pure check of the "Backup jobs at once" dialog: the helper's own rule (helper/protocol/queue-rules), so
// the dialog refuses exactly what the helper would; the helper checks again.
import { checkMaxBackupJobs, type MaxBackupJobsProblem } from "../../helper/protocol/queue-rules";

export type { MaxBackupJobsProblem };

/** The number to save, or why the typed text is refused. */
export function validateQueueForm(text: string): { max: number } | { problem: MaxBackupJobsProblem } {
    return checkMaxBackupJobs(text);
}
