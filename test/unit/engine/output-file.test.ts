// SPDX-License-Identifier: GPL-3.0-or-later
// OutputFile and WriteBehind on real files: the partial name until publish, never replacing a file,
// discard, checksummed writes, and the write-behind leaving only the last windows in the page cache.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { adler32 } from "codec-node";
import { OutputFile } from "../../../helper/engine/output-file.ts";
import { WriteBehind } from "../../../helper/engine/write-behind.ts";

const MiB = 1024 * 1024;

function tempDir(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-output-`));
}

function residentBytes(file: string): number {
    return Number(execFileSync("fincore", ["--bytes", "--noheadings", "--output", "RES", file]).toString().trim());
}

test("an output file is '<file>.partial' until published, then has its name, durably written", async () => {
    const dir = tempDir();
    try {
        const file = path.join(dir, "vda.full.data");
        const out = await OutputFile.create(file);
        const a = crypto.randomBytes(3 * MiB + 1);
        const b = crypto.randomBytes(777);
        await out.write([a], 0);
        const sum = await out.writeSummed([b, Buffer.from("\r\n")], a.length, adler32(a));
        assert.equal(sum, adler32(Buffer.concat([a, b, Buffer.from("\r\n")])));
        assert.deepEqual(fs.readdirSync(dir), ["vda.full.data.partial"]);
        await out.close();
        await out.publish();
        assert.deepEqual(fs.readdirSync(dir), ["vda.full.data"]);
        assert.ok(fs.readFileSync(file).equals(Buffer.concat([a, b, Buffer.from("\r\n")])));
        await assert.rejects(out.write([a], 0), /published/);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("an output file never replaces an existing one, and discard leaves nothing", async () => {
    const dir = tempDir();
    try {
        const file = path.join(dir, "vda.full.data");
        fs.writeFileSync(file, "a finished backup");
        await assert.rejects(OutputFile.create(file), /already exists/);
        assert.deepEqual(fs.readdirSync(dir), ["vda.full.data"]);

        const other = path.join(dir, "vdb.full.data");
        const out = await OutputFile.create(other, 64 * MiB);
        await out.write([crypto.randomBytes(MiB)], 10 * MiB);
        assert.equal(fs.statSync(`${other}.partial`).size, 64 * MiB, "created at its full size, as a hole");
        await out.close();
        fs.writeFileSync(other, "appeared meanwhile");
        await assert.rejects(out.publish(), /already exists/);
        assert.equal(fs.readFileSync(other, "utf8"), "appeared meanwhile");

        const third = await OutputFile.create(path.join(dir, "vdc.full.data"));
        await third.write([crypto.randomBytes(MiB)], 0);
        await third.discard();
        assert.deepEqual(fs.readdirSync(dir).sort(), ["vda.full.data", "vdb.full.data", "vdb.full.data.partial"]);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("write-behind: written windows go to disk and leave the page cache, the content stays exact", async () => {
    const dir = tempDir();
    try {
        const file = path.join(dir, "big");
        const fd = fs.openSync(file, "w+");
        const window = 4 * MiB;
        const behind = new WriteBehind(fd, window);
        const hash = crypto.createHash("sha256");
        let end = 0;
        for (let i = 0; i < 48; i++) {
            const piece = crypto.randomBytes(MiB);
            hash.update(piece);
            fs.writeSync(fd, piece, 0, piece.length, end);
            end += piece.length;
            behind.written(end);
            await behind.settle(); // one step at a time, so the outcome does not depend on timing
        }
        const resident = residentBytes(file);
        // Each step drops all but the window it has just started.
        assert.ok(resident <= 2 * window, `${resident} bytes of 48 MiB still cached`);
        fs.closeSync(fd);
        assert.equal(crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex"), hash.digest("hex"));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("write-behind reports a failed step: sync_file_range on a pipe", async () => {
    const dir = tempDir();
    const fifo = path.join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const fd = fs.openSync(fifo, fs.constants.O_RDWR);
    try {
        const behind = new WriteBehind(fd, MiB);
        behind.written(2 * MiB);
        await assert.rejects(behind.settle(), { code: "ESPIPE" });
        behind.written(8 * MiB); // no new step after a failure
        await assert.rejects(behind.settle(), { code: "ESPIPE" });
    } finally {
        fs.closeSync(fd);
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
