// SPDX-License-Identifier: GPL-3.0-or-later
// The dark-theme decision for Cockpit's "shell:style" setting.
import { it } from "node:test";
import assert from "node:assert/strict";
import { wantsDark } from "../../../src/lib/theme.ts";

it("dark and light are explicit; auto, unset and unknown follow the browser", () => {
    for (const prefersDark of [false, true]) {
        assert.equal(wantsDark("dark", prefersDark), true);
        assert.equal(wantsDark("light", prefersDark), false);
        assert.equal(wantsDark("auto", prefersDark), prefersDark);
        assert.equal(wantsDark(null, prefersDark), prefersDark);
        assert.equal(wantsDark("sepia", prefersDark), prefersDark);
    }
});
