// SPDX-License-Identifier: GPL-3.0-or-later
// ReadBackSum on real files written by a real OutputFile: the sum it gives is the sum of the file as it is at
// the end, whether the writer appended, rewrote an earlier range, or left bytes past the last write told; a
// write that did not land where it was said to shows as a different sum.
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { adler32 } from "codec-node";
import { OutputFile } from "../../../helper/engine/output-file.ts";
import { ReadBackSum } from "../../../helper/engine/read-back.ts";

const MiB = 1024 * 1024;

async function withFile(fn: (file: string, out: OutputFile, back: () => ReadBackSum) => Promise<void>): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-readback-`));
    let back: ReadBackSum | undefined;
    try {
        const file = path.join(dir, "vda.full.data");
        const out = await OutputFile.create(file, undefined, { keepCached: true, onWritten: (p, e) => back?.written(p, e) });
        back = await ReadBackSum.open(out.partialFile);
        await fn(file, out, () => back!);
    } finally {
        await back?.close().catch(() => {});
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

test("appended writes: the sum and length are those of the whole file, read while the writer went on", async () => {
    await withFile(async (file, out, back) => {
        const parts = [crypto.randomBytes(9 * MiB + 7), crypto.randomBytes(100), crypto.randomBytes(20 * MiB), crypto.randomBytes(1)];
        let pos = 0;
        for (const p of parts) {
            await out.write([p], pos);
            pos += p.length;
            // Give the follower turns, as the copy's reads do.
            await new Promise(r => setImmediate(r));
        }
        await out.close();
        const r = await back().finish();
        const content = fs.readFileSync(out.partialFile);
        assert.equal(r.length, content.length);
        assert.equal(r.sum, adler32(content, 1));
        assert.equal(r.sum, adler32(Buffer.concat(parts), 1));
        void file;
    });
});

test("an earlier range rewritten after it was read: the sum is of the file as it ends", async () => {
    await withFile(async (_file, out, back) => {
        const a = crypto.randomBytes(12 * MiB);
        await out.write([a], 0);
        await new Promise(r => setTimeout(r, 50));  // the follower has read `a`
        const patch = crypto.randomBytes(4096);
        await out.write([patch], 4096);
        await out.write([crypto.randomBytes(MiB)], a.length);
        await out.close();
        const r = await back().finish();
        assert.equal(r.sum, adler32(fs.readFileSync(out.partialFile), 1));
    });
});

test("bytes past the last write told are read too", async () => {
    await withFile(async (_file, out, back) => {
        await out.write([crypto.randomBytes(MiB)], 0);
        await out.close();
        fs.appendFileSync(out.partialFile, crypto.randomBytes(5000));
        const r = await back().finish();
        const content = fs.readFileSync(out.partialFile);
        assert.equal(r.length, content.length);
        assert.equal(r.sum, adler32(content, 1));
    });
});

test("a write that landed elsewhere than told gives a sum other than the writer's", async () => {
    await withFile(async (_file, out, back) => {
        const a = crypto.randomBytes(2 * MiB);
        const b = crypto.randomBytes(2 * MiB);
        await out.write([a], 0);
        // The bytes meant for [2 MiB, 4 MiB) go 1 MiB too far; the follower is told they are where they should be.
        const fh = await fs.promises.open(out.partialFile, "r+");
        await fh.write(b, 0, b.length, 3 * MiB);
        await fh.close();
        back().written(2 * MiB, 4 * MiB);
        await out.close();
        const r = await back().finish();
        assert.notEqual(r.sum, adler32(Buffer.concat([a, b]), 1));
        assert.equal(r.sum, adler32(fs.readFileSync(out.partialFile), 1));
    });
});

test("a read error while following surfaces at finish", async () => {
    await withFile(async (_file, out, back) => {
        await out.write([crypto.randomBytes(MiB)], 0);
        await out.close();
        const follower = back();
        await follower.close();
        await assert.rejects(follower.finish(), /EBADF|closed/);
    });
});
