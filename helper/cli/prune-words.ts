// SPDX-License-Identifier: GPL-3.0-or-later
// virtnbdprune's words for a merge under way and for a stop (pure, apart from the CLI so tests can load them).
import { oneLine } from "./cli-run.ts";

/** The progress line's label of a merge: "chain-2 up to virtnbdbackup.3" (the folder itself: "."). */
export function mergeLabel(chain: string, point: string): string {
    return `${chain || "."} up to ${point}`;
}

/** The one-line message of a run stopped by a signal or a closed output: what stays and what to do. */
export function stoppedMessage(err: unknown): string {
    return `${oneLine(err)}: the merge under way was undone, merges done before it stay (run it again to go on)`;
}
