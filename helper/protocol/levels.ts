// SPDX-License-Identifier: GPL-3.0-or-later
// The backup levels, in one place: what the CLIs, the helper's commands, the job runner and the page accept.
// Pure and free of imports, so the page shares it (eslint.config.mjs names the contract modules).

/** What a backup run writes: virtnbdbackup's levels. */
export const LEVELS = ["copy", "full", "inc", "diff"] as const;
export type Level = (typeof LEVELS)[number];

/** What a caller may ask for: a level, or auto (full into an empty folder, else inc). */
export const REQUESTED_LEVELS = [...LEVELS, "auto"] as const;
export type RequestedLevel = (typeof REQUESTED_LEVELS)[number];

/** What the page's "Back up now" may start: also new-chain (a full that starts a new chain folder). */
export const JOB_LEVELS = [...REQUESTED_LEVELS, "new-chain"] as const;
export type JobLevel = (typeof JOB_LEVELS)[number];
