// SPDX-License-Identifier: GPL-3.0-or-later
// How restore points are named: our checkpoints are `virtnbdbackup.N`, N counting from 0 along a chain (as
// the other tool names them). The page decides with these which points it may offer to delete and the helper
// names checkpoints and files with them; helper/format/names.ts builds the backup folder's file names on them.
// Pure and free of imports, so the page shares it (eslint.config.mjs names the contract modules).

export const CHECKPOINT_PREFIX = "virtnbdbackup";

export function checkpointName(index: number): string {
    return `${CHECKPOINT_PREFIX}.${index}`;
}

/** The index N of one of our checkpoint names `virtnbdbackup.N`; undefined for any other name. */
export function checkpointIndex(name: string): number | undefined {
    const m = /^virtnbdbackup\.(\d+)$/.exec(name);
    return m ? Number(m[1]) : undefined;
}

/** Whether `name` is one of our checkpoint names (not a diff's unix time, not "copy"). */
export function isCheckpointName(name: string): boolean {
    return checkpointIndex(name) !== undefined;
}
