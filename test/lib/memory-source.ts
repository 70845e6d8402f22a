// SPDX-License-Identifier: GPL-3.0-or-later
// A copy-pipeline Source over bytes in memory, for the unit tests of sinks (pure logic, no I/O).
import type { Source } from "../../helper/engine/endpoint.ts";
import { splitFixed } from "../../helper/engine/extents.ts";

export function memorySource(data: Buffer): Source {
    return {
        size: data.length,
        split: (e, max) => splitFixed(e, max),
        async read(chunk, buf) {
            data.copy(buf, 0, chunk.offset, chunk.offset + chunk.length);
            return buf.subarray(0, chunk.length);
        },
        async close() {},
    };
}
