// SPDX-License-Identifier: GPL-3.0-or-later
// The "Backup jobs at once" dialog's check: the helper's own rule, a problem per refusal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { validateQueueForm } from "../../../src/app/queue-form.ts";

test("whole numbers from 1 to 64 are taken, anything else names its problem", () => {
    assert.deepEqual(validateQueueForm("1"), { max: 1 });
    assert.deepEqual(validateQueueForm(" 64 "), { max: 64 });
    for (const text of ["", "x", "1.5", "-1", "1e3", "2 3"])
        assert.deepEqual(validateQueueForm(text), { problem: "not-a-number" }, text);
    for (const text of ["0", "65", "999999"])
        assert.deepEqual(validateQueueForm(text), { problem: "out-of-range" }, text);
});
