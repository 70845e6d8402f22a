// SPDX-License-Identifier: GPL-3.0-or-later
// Failures are clear rejections (never crashes): bad servers, bad arguments, closed handles, GC.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { Handle, type NbdError } from "libnbd-node";
import { gcNow, makeTempDir, startNbdkit, startQemuNbd, run, type Server, type TempDir } from "./servers.ts";

let tmp: TempDir;
const servers: Server[] = [];
let memory: Server;

before(async () => {
    tmp = makeTempDir();
    memory = await startNbdkit(tmp.dir, ["memory", "1M"]);
    servers.push(memory);
});
after(async () => {
    for (const s of servers) await s.stop();
    tmp.remove();
});

function isNbdError(code: string, message?: RegExp) {
    return (e: unknown) => {
        const error = e as NbdError;
        assert.ok(error instanceof Error, "an Error object");
        assert.equal(error.code, code, `code of: ${error.message}`);
        if (message) assert.match(error.message, message);
        return true;
    };
}

test("connecting to a missing socket rejects with ENOENT", async () => {
    const h = new Handle();
    await assert.rejects(h.connectUnix(path.join(tmp.dir, "no-such.sock")), e => {
        isNbdError("ENOENT", /connect/)(e);
        assert.equal((e as NbdError).errno, 2);
        return true;
    });
    h.close();
});

test("an unknown export name is refused by the server", async () => {
    const image = path.join(tmp.dir, "named.qcow2");
    run("qemu-img", ["create", "-q", "-f", "qcow2", image, "1M"]);
    const s = await startQemuNbd(tmp.dir, ["-f", "qcow2", image], "vnbt-disk");
    servers.push(s);
    const wrong = new Handle();
    wrong.setExportName("vnbt-other");
    await assert.rejects(wrong.connectUnix(s.socket), (e: NbdError) => {
        assert.ok(e instanceof Error);
        assert.match(e.message, /export|not found|unknown|No such/i);
        assert.equal(typeof e.errno, "number");
        return true;
    });
    wrong.close();
    const right = new Handle();
    right.setExportName("vnbt-disk");
    await right.connectUnix(s.socket);
    assert.equal(right.getSize(), 1024 * 1024);
    right.close();
});

test("reading or writing past the end rejects (EINVAL, ENOSPC)", async () => {
    const h = new Handle();
    await h.connectUnix(memory.socket);
    await assert.rejects(h.pread(Buffer.alloc(4096), 1024 * 1024 - 100), isNbdError("EINVAL", /out of bounds/));
    await assert.rejects(h.pwrite(Buffer.alloc(10), 1024 * 1024), isNbdError("ENOSPC", /out of bounds/));
    // The handle stays usable after a failed request.
    assert.equal((await h.pread(Buffer.alloc(100), 0)).length, 100);
    h.close();
});

test("bad arguments are rejected before reaching libnbd", async () => {
    const h = new Handle();
    await h.connectUnix(memory.socket);
    const notBuffer = "not a buffer" as unknown as Buffer;
    await assert.rejects(h.pread(notBuffer, 0), { name: "TypeError", code: "ERR_INVALID_ARG_TYPE" });
    await assert.rejects(h.pwrite([1, 2, 3] as unknown as Buffer, 0), { name: "TypeError" });
    await assert.rejects(h.pread(Buffer.alloc(1), -1), { name: "RangeError", code: "ERR_OUT_OF_RANGE" });
    await assert.rejects(h.pread(Buffer.alloc(1), 1.5), { name: "RangeError" });
    await assert.rejects(h.pread(Buffer.alloc(1), "0" as unknown as number), { name: "TypeError" });
    await assert.rejects(h.zero(-5, 0), { name: "RangeError" });
    await assert.rejects(h.trim(1, Number.MAX_SAFE_INTEGER + 2), { name: "RangeError" });
    await assert.rejects(h.pread(Buffer.alloc(1), 0, 1 << 8), { name: "RangeError" });
    await assert.rejects(h.blockStatus(10, 0, "cb" as unknown as () => void), { name: "TypeError" });
    await assert.rejects(h.connectCommand([] as string[]), { name: "TypeError" });
    assert.throws(() => h.getBlockSize("largest" as "maximum"), { name: "TypeError" });
    assert.throws(() => h.addMetaContext(7 as unknown as string), { name: "TypeError" });
    // Arguments libnbd itself refuses come back as its errors.
    await assert.rejects(h.pread(Buffer.alloc(0), 0), isNbdError("EINVAL"));
    h.close();
});

test("asking before connecting, and while connecting, fails clearly", async () => {
    const h = new Handle();
    assert.throws(() => h.getSize(), (e: NbdError) => {
        assert.match(e.message, /connect|state/i);
        return true;
    });
    await assert.rejects(h.pread(Buffer.alloc(1), 0), /connect|state/i);
    const connecting = h.connectUnix(memory.socket);
    assert.throws(() => h.getSize(), { code: "ERR_NBD_BUSY" });
    await assert.rejects(h.pread(Buffer.alloc(1), 0), { code: "ERR_NBD_BUSY" });
    await connecting;
    await assert.rejects(h.connectUnix(memory.socket), /state|connected/i);
    h.close();
});

test("a closed handle rejects every call, and close() rejects requests in flight", async () => {
    const slow = await startNbdkit(tmp.dir, ["--filter=delay", "memory", "1M", "rdelay=2"]);
    servers.push(slow);
    const h = new Handle();
    await h.connectUnix(slow.socket);
    const inFlight = [h.pread(Buffer.alloc(512), 0), h.pread(Buffer.alloc(512), 512), h.flush()];
    assert.equal(h.aioInFlight(), 3);
    h.close();
    assert.equal(h.closed, true);
    for (const p of inFlight) await assert.rejects(p, { code: "ERR_NBD_CLOSED" });
    await assert.rejects(h.pread(Buffer.alloc(1), 0), { code: "ERR_NBD_CLOSED" });
    await assert.rejects(h.connectUnix(memory.socket), { code: "ERR_NBD_CLOSED" });
    await assert.rejects(h.shutdown(), { code: "ERR_NBD_CLOSED" });
    assert.throws(() => h.getSize(), { code: "ERR_NBD_CLOSED" });
    h.close(); // twice is harmless
});

test("close() during connect rejects the connect", async () => {
    const h = new Handle();
    const connecting = h.connectUnix(memory.socket);
    h.close();
    await assert.rejects(connecting, { code: "ERR_NBD_CLOSED" });
});

test("handles dropped with requests in flight finish them; dropped idle handles are freed", async () => {
    const slow = await startNbdkit(tmp.dir, ["--filter=delay", "pattern", "size=1M", "rdelay=200ms"]);
    servers.push(slow);
    let collected = 0;
    const registry = new FinalizationRegistry(() => { collected++; });
    const reads: Promise<Buffer>[] = [];
    await (async () => {
        for (let i = 0; i < 4; i++) {
            const h = new Handle();
            await h.connectUnix(slow.socket);
            reads.push(h.pread(Buffer.alloc(16), 8 * i));
            registry.register(h, i);
        }
    })();
    for (let i = 0; i < 5; i++) {
        gcNow();
        await new Promise(resolve => setImmediate(resolve));
    }
    const results = await Promise.all(reads);
    results.forEach((buf, i) => assert.equal(buf.readBigUInt64BE(0), BigInt(8 * i)));
    // Now idle: the handles (and their connections) can be collected without a crash.
    for (let i = 0; i < 20 && collected < 4; i++) {
        gcNow();
        await new Promise(resolve => setTimeout(resolve, 20));
    }
    assert.equal(collected, 4);
});

test("the server going away rejects the requests in flight", { timeout: 30_000 }, async () => {
    const doomed = await startNbdkit(tmp.dir, ["--filter=delay", "memory", "1M", "rdelay=2"]);
    const h = new Handle();
    await h.connectUnix(doomed.socket);
    const reads = Promise.allSettled([h.pread(Buffer.alloc(512), 0), h.pread(Buffer.alloc(512), 4096)]);
    await doomed.stop();
    for (const r of await reads) {
        assert.equal(r.status, "rejected");
        assert.ok(r.reason instanceof Error && typeof (r.reason as NbdError).errno === "number", String(r.reason));
    }
    await assert.rejects(h.pread(Buffer.alloc(1), 0), /dead|state|connect/i);
    h.close();
});

test("a server that resets the connection with replies still unread rejects every request", { timeout: 30_000 }, async () => {
    // nbdkit's workers all sleep in the delay filter, so most requests stay unread in its socket: when it is
    // stopped, its error replies and then the reset (POLLERR) wait together on our side while this thread is
    // blocked. libnbd reads one reply per notification, so the watch must go on after the error is reported.
    const doomed = await startNbdkit(tmp.dir, ["--filter=delay", "memory", "1M", "rdelay=1"]);
    const h = new Handle();
    await h.connectUnix(doomed.socket);
    const reads = Promise.allSettled(Array.from({ length: 64 }, (_, i) => h.pread(Buffer.alloc(512), i * 4096)));
    await new Promise(resolve => setTimeout(resolve, 200));
    const stopped = doomed.stop();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
        reads,
        new Promise<"stuck">(resolve => { timer = setTimeout(() => resolve("stuck"), 10_000); }),
    ]);
    clearTimeout(timer);
    await stopped;
    assert.notEqual(outcome, "stuck", "requests left pending after the connection was reset");
    for (const r of outcome as PromiseSettledResult<Buffer>[]) {
        assert.equal(r.status, "rejected");
        assert.equal(typeof (r as PromiseRejectedResult).reason.errno, "number", String((r as PromiseRejectedResult).reason));
    }
    h.close();
});

test("close() from inside a block status callback is safe", async () => {
    const image = path.join(tmp.dir, "cb-close.qcow2");
    run("qemu-img", ["create", "-q", "-f", "qcow2", image, "1M"]);
    const s = await startQemuNbd(tmp.dir, ["-r", "-f", "qcow2", image]);
    servers.push(s);
    const h = new Handle();
    h.addMetaContext("base:allocation");
    await h.connectUnix(s.socket);
    const other = h.pread(Buffer.alloc(512), 0);
    await assert.rejects(h.blockStatus(1024 * 1024, 0, () => h.close()), { code: "ERR_NBD_CLOSED" });
    await other.catch(() => undefined); // settled one way or the other, never left hanging
    assert.equal(h.closed, true);
});
