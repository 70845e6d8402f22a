// SPDX-License-Identifier: GPL-3.0-or-later
// virtnbdprune's words for a merge's progress line and for a run stopped by a signal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mergeLabel, stoppedMessage } from "../../../helper/cli/prune-words.ts";

test("a merge's label names its chain (the folder itself as '.') and the point it merges up to", () => {
    assert.equal(mergeLabel("chain-2", "virtnbdbackup.3"), "chain-2 up to virtnbdbackup.3");
    assert.equal(mergeLabel("", "virtnbdbackup.1"), ". up to virtnbdbackup.1");
});

test("a stop says why, on one line, and that the merge under way was undone", () => {
    assert.equal(stoppedMessage(new Error("cancelled by SIGTERM")),
                 "cancelled by SIGTERM: the merge under way was undone, merges done before it stay (run it again to go on)");
    assert.equal(stoppedMessage(new Error("cancelled: cannot write to stdout\n(EPIPE)")).split("\n").length, 1);
});
