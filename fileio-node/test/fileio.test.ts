// SPDX-License-Identifier: GPL-3.0-or-later
// fileio-node against the kernel: bytes on disk and Python's zlib.adler32 for writeSummed, the page
// cache as fincore(1) sees it for sync_file_range + POSIX_FADV_DONTNEED, O_DIRECT reads for aligned
// buffers (the kernel refuses a misaligned one), and real errno failures.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { alignedBuffer, bytesToAlignment, constants, fadvise, syncFileRange, tryLock, writeSummed } from "fileio-node";

const MiB = 1024 * 1024;
const { SYNC_FILE_RANGE_WAIT_BEFORE, SYNC_FILE_RANGE_WRITE, SYNC_FILE_RANGE_WAIT_AFTER, POSIX_FADV_DONTNEED } = constants;

function pythonAdler32(data: Uint8Array, seed = 1): number {
    const script = "import sys, zlib; print(zlib.adler32(sys.stdin.buffer.read(), int(sys.argv[1])))";
    return Number(execFileSync("/usr/bin/python3", ["-c", script, String(seed)], { input: data, maxBuffer: 64 * MiB }).toString().trim());
}

/** Bytes of `file` in the page cache, by util-linux fincore. */
function residentBytes(file: string): number {
    return Number(execFileSync("fincore", ["--bytes", "--noheadings", "--output", "RES", file]).toString().trim());
}

function withTempFile<T>(fn: (file: string, fd: number) => Promise<T>): Promise<T> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-fileio-`));
    const file = path.join(dir, "f");
    const fd = fs.openSync(file, "w+");
    return fn(file, fd).finally(() => {
        fs.closeSync(fd);
        fs.rmSync(dir, { recursive: true, force: true });
    });
}

test("writeSummed writes every buffer back to back at the position and sums them like zlib", async () => {
    await withTempFile(async (file, fd) => {
        const parts = [crypto.randomBytes(5553), Buffer.alloc(0), crypto.randomBytes(3 * MiB + 7), Buffer.from("\r\n")];
        const whole = Buffer.concat(parts);
        const sum = await writeSummed(fd, parts, 4096);
        assert.equal(sum, pythonAdler32(whole));
        const onDisk = fs.readFileSync(file);
        assert.equal(onDisk.length, 4096 + whole.length);
        assert.ok(onDisk.subarray(0, 4096).every(b => b === 0), "the bytes before the position stay a hole");
        assert.ok(onDisk.subarray(4096).equals(whole));
    });
});

test("writeSummed continues from a seed: two writes sum what one would", async () => {
    await withTempFile(async (file, fd) => {
        const a = crypto.randomBytes(100_000);
        const b = crypto.randomBytes(250_001);
        const first = await writeSummed(fd, [a], 0);
        const second = await writeSummed(fd, [b], a.length, first);
        assert.equal(second, pythonAdler32(Buffer.concat([a, b])));
        assert.equal(await writeSummed(fd, [], 0, 0xdeadbeef), 0xdeadbeef, "nothing written: the seed itself");
        assert.ok(fs.readFileSync(file).equals(Buffer.concat([a, b])));
    });
});

test("writeSummed rejects with the errno of the write: ENOSPC on /dev/full, EBADF on a closed fd", async () => {
    const full = fs.openSync("/dev/full", "w");
    try {
        await assert.rejects(writeSummed(full, [Buffer.alloc(4096, 1)], 0), { code: "ENOSPC", syscall: "pwritev" });
    } finally {
        fs.closeSync(full);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-fileio-`));
    const fd = fs.openSync(path.join(dir, "f"), "w");
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
    await assert.rejects(writeSummed(fd, [Buffer.alloc(1)], 0), { code: "EBADF" });
});

test("sync_file_range writes a range and POSIX_FADV_DONTNEED then drops it from the page cache", async () => {
    await withTempFile(async (file, fd) => {
        const size = 16 * MiB;
        await writeSummed(fd, [crypto.randomBytes(size)], 0);
        assert.ok(residentBytes(file) >= size / 2, "freshly written pages are cached");
        await syncFileRange(fd, 0, 8 * MiB, SYNC_FILE_RANGE_WRITE);
        await syncFileRange(fd, 0, size, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
        await fadvise(fd, 0, 12 * MiB, POSIX_FADV_DONTNEED);
        const resident = residentBytes(file);
        assert.ok(resident <= 4 * MiB, `only the last 4 MiB may stay cached, ${resident} bytes do`);
        // Dropped from the cache, not lost: the data reads back from disk.
        const back = Buffer.alloc(size);
        fs.readSync(fd, back, 0, size, 0);
        assert.equal(await writeSummed(fd, [back], 0), pythonAdler32(back));
    });
});

test("sync_file_range on a pipe fails with ESPIPE", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-fileio-`));
    const fifo = path.join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const fd = fs.openSync(fifo, fs.constants.O_RDWR);
    try {
        await assert.rejects(syncFileRange(fd, 0, 0, SYNC_FILE_RANGE_WRITE), { code: "ESPIPE", syscall: "sync_file_range" });
        await assert.rejects(fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), { code: "ESPIPE", syscall: "posix_fadvise" });
    } finally {
        fs.closeSync(fd);
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("tryLock is flock(2): exclusive per open file, seen by flock(1), gone when the file is closed", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-fileio-`));
    const file = path.join(dir, "lock");
    /** util-linux flock(1), non-blocking: exit 0 when it could take the lock. */
    const othersCanTake = () => spawnSync("flock", ["--nonblock", "--exclusive", file, "true"]).status === 0;
    try {
        const a = fs.openSync(file, "w");
        const b = fs.openSync(file, "r");
        assert.equal(othersCanTake(), true);
        assert.equal(tryLock(a), true);
        assert.equal(tryLock(a), true, "taking it again through the same open file is a no-op");
        assert.equal(tryLock(b), false, "another open file of the same process is refused");
        assert.equal(othersCanTake(), false, "another process is refused");
        assert.equal(tryLock(a, false), true);
        assert.equal(tryLock(b), true, "free again after unlocking");
        fs.closeSync(b);
        assert.equal(othersCanTake(), true, "closing the file releases it");
        fs.closeSync(a);
        assert.throws(() => tryLock(a), { code: "EBADF", syscall: "flock" });
        assert.throws(() => tryLock(-1), { name: "RangeError" });
        assert.throws(() => tryLock(0, 1 as unknown as boolean), { name: "TypeError" });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("tryLock \"shared\" is flock(LOCK_SH): many shared holders, none while an exclusive one holds it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-fileio-`));
    const file = path.join(dir, "lock");
    const others = (mode: string) => spawnSync("flock", ["--nonblock", mode, file, "true"]).status === 0;
    try {
        const a = fs.openSync(file, "w");
        const b = fs.openSync(file, "r");
        assert.equal(tryLock(a, "shared"), true);
        assert.equal(tryLock(b, "shared"), true, "a second shared holder");
        assert.equal(others("--shared"), true, "and a third, in another process");
        assert.equal(others("--exclusive"), false, "no exclusive one while shared ones hold it");
        fs.closeSync(b);
        assert.equal(tryLock(a, false), true);
        assert.equal(tryLock(a), true, "exclusive once the shared ones are gone");
        const c = fs.openSync(file, "r");
        assert.equal(tryLock(c, "shared"), false, "no shared one while an exclusive one holds it");
        assert.equal(others("--shared"), false);
        fs.closeSync(a);
        assert.equal(tryLock(c, "shared"), true);
        fs.closeSync(c);
        assert.throws(() => tryLock(0, "both" as unknown as boolean), { name: "TypeError" });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("alignedBuffer starts on the boundary asked for: O_DIRECT reads, refused into a misaligned buffer, fill it", async () => {
    await withTempFile(async file => {
        const data = crypto.randomBytes(64 * 1024);
        fs.writeFileSync(file, data);
        const direct = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
        try {
            const aligned = alignedBuffer(data.length);
            assert.equal(aligned.length, data.length);
            assert.equal(fs.readSync(direct, aligned, 0, data.length, 0), data.length);
            assert.ok(aligned.equals(data));
            const misaligned = alignedBuffer(data.length + 4096).subarray(16, 16 + data.length);
            assert.throws(() => fs.readSync(direct, misaligned, 0, data.length, 0), { code: "EINVAL" });
            assert.equal(bytesToAlignment(aligned, 4096), 0);
            assert.equal(bytesToAlignment(aligned.subarray(1), 4096), 4095);
            assert.equal(bytesToAlignment(misaligned, 64), 48);
            // A small alignment for small buffers; every buffer is a new one.
            const small = alignedBuffer(100, 64);
            assert.equal(small.length, 100);
            assert.equal(bytesToAlignment(small, 64), 0);
            small.fill(1);
            assert.ok(alignedBuffer(100, 64).buffer !== small.buffer);
        } finally {
            fs.closeSync(direct);
        }
    });
    assert.throws(() => alignedBuffer(10, 3), { name: "RangeError", code: "ERR_OUT_OF_RANGE" });
    assert.throws(() => alignedBuffer(-1), { name: "RangeError", code: "ERR_OUT_OF_RANGE" });
    assert.throws(() => alignedBuffer(1.5), { name: "RangeError", code: "ERR_OUT_OF_RANGE" });
    assert.throws(() => bytesToAlignment("x" as unknown as Uint8Array, 64), { name: "TypeError" });
    assert.throws(() => bytesToAlignment(new Uint16Array(4) as unknown as Uint8Array, 64), { name: "TypeError" });
});

test("bad arguments reject with TypeError/RangeError before reaching the kernel", async () => {
    await assert.rejects(writeSummed(1, "x" as unknown as Uint8Array[], 0), { name: "TypeError", code: "ERR_INVALID_ARG_TYPE" });
    await assert.rejects(writeSummed(1, [Buffer.alloc(1), "x" as unknown as Uint8Array], 0), { name: "TypeError" });
    await assert.rejects(writeSummed(-1, [], 0), { name: "RangeError", code: "ERR_OUT_OF_RANGE" });
    await assert.rejects(writeSummed(1, [], 0.5), { name: "RangeError" });
    await assert.rejects(writeSummed(1, [], 0, 2 ** 32), { name: "RangeError" });
    await assert.rejects(syncFileRange(1, -1, 0, 0), { name: "RangeError" });
    await assert.rejects(fadvise(1, 0, 0, "DONTNEED" as unknown as number), { name: "TypeError" });
});
