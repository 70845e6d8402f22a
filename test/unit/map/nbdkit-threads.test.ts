// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import { needsOneThreadPerConnection } from "../../../helper/map/nbdkit-server.ts";

test("nbdkit before 1.33.10 (Debian 12 has 1.32.5) gets one worker thread per connection; later ones keep theirs", () => {
    for (const v of ["1.32.5", "1.30.0", "1.33.9", "unknown", ""])
        assert.equal(needsOneThreadPerConnection(v), true, v);
    for (const v of ["1.33.10", "1.34.1", "1.40.0"])
        assert.equal(needsOneThreadPerConnection(v), false, v);
});
