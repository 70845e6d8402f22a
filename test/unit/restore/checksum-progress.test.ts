// SPDX-License-Identifier: GPL-3.0-or-later
// fileAdler32's progress callback on a real file of several read blocks: the counts grow to the file's
// size, and the sum is the same as without a callback (and as a plain adler32 written out here).
import { after, it } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkChecksum, fileAdler32 } from "../../../helper/restore/checksum.ts";
import { checksumFileName } from "../../../helper/format/index.ts";

const work = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-chksum-`));
after(() => fs.rmSync(work, { recursive: true, force: true }));

/** adler32 by its definition (RFC 1950), to check the binding against. */
function referenceAdler32(data: Buffer): number {
    let a = 1;
    let b = 0;
    for (const byte of data) {
        a = (a + byte) % 65521;
        b = (b + a) % 65521;
    }
    return ((b << 16) | a) >>> 0;
}

// Two full 2 MiB blocks (checksum.ts reads 2 MiB at a time) and a short one.
const SIZE = 2 * 2 * 1024 * 1024 + 12_345;
const data = crypto.randomBytes(SIZE);
const file = path.join(work, "vda.full.data");
fs.writeFileSync(file, data);

it("reports bytes summed so far after each block, ending at the file's size, without changing the sum", async () => {
    const seen: number[] = [];
    const withProgress = await fileAdler32(file, { onProgress: done => seen.push(done) });
    assert.deepEqual(seen, [2 * 1024 * 1024, 4 * 1024 * 1024, SIZE]);
    assert.equal(withProgress, referenceAdler32(data));
    assert.equal(await fileAdler32(file), withProgress);
    // The older call form (a signal as second argument) still works, and still aborts.
    assert.equal(await fileAdler32(file, new AbortController().signal), withProgress);
    await assert.rejects(fileAdler32(file, AbortSignal.abort()), { name: "AbortError" });
    await assert.rejects(fileAdler32(file, { signal: AbortSignal.abort(), onProgress: () => assert.fail("no read after abort") }),
                         { name: "AbortError" });
});

it("passes the callback on through checkChecksum", async () => {
    fs.writeFileSync(checksumFileName(file), `${referenceAdler32(data)}\n`);
    let last = 0;
    let calls = 0;
    const r = await checkChecksum(file, { onProgress: done => { assert.ok(done > last); last = done; calls++ } });
    assert.deepEqual(r, { status: "ok", value: referenceAdler32(data) });
    assert.deepEqual([last, calls], [SIZE, 3]);
    assert.deepEqual(await checkChecksum(file), r);
});
