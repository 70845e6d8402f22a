// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import { UndoStack } from "../../../helper/run/undo-stack.ts";

test("a failed run unwinds every step newest first; a successful one only the always steps", async () => {
    for (const failed of [true, false]) {
        const done: string[] = [];
        const undo = new UndoStack();
        undo.always(() => { done.push("lock"); });
        undo.onFailure(() => { done.push("folder"); });
        undo.onFailure(async () => { await new Promise(r => setImmediate(r)); done.push("files"); });
        undo.always(() => { done.push("log"); });
        undo.onFailure(() => { done.push("job"); });
        await undo.unwind(failed);
        assert.deepEqual(done, failed ? ["job", "log", "files", "folder", "lock"] : ["log", "lock"]);
        // Unwound once: a second unwind has nothing left.
        await undo.unwind(true);
        assert.equal(done.length, failed ? 5 : 2);
    }
});

test("a step taken off the stack does not run; a throwing step does not stop the others, its error comes after", async () => {
    const done: string[] = [];
    const undo = new UndoStack();
    undo.always(() => { done.push("lock"); });
    undo.onFailure(() => { throw new Error("first"); });
    const keep = undo.onFailure(() => { done.push("checkpoint"); });
    undo.onFailure(() => { throw new Error("second"); });
    keep();
    await assert.rejects(undo.unwind(true), /second/);
    assert.deepEqual(done, ["lock"]);
});

test("undoNow runs the synchronous undos newest first and never throws", () => {
    const done: string[] = [];
    const undo = new UndoStack();
    undo.onFailure(() => {}, () => { done.push("a"); });
    undo.onFailure(() => {}, () => { throw new Error("gone"); });
    undo.always(() => {});
    undo.onFailure(() => {}, () => { done.push("c"); });
    undo.undoNow();
    assert.deepEqual(done, ["c", "a"]);
});
