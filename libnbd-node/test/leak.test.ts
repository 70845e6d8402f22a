// SPDX-License-Identifier: GPL-3.0-or-later
// 20 000 operations (and 200 handle lifetimes) must not grow memory: buffers, callbacks and
// per-request state are all released.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { Handle, CONTEXT_BASE_ALLOCATION } from "libnbd-node";
import { gcNow, makeTempDir, startNbdkit, type Server, type TempDir } from "./servers.ts";

const MiB = 1024 * 1024;
let tmp: TempDir;
let server: Server;

before(async () => {
    tmp = makeTempDir();
    server = await startNbdkit(tmp.dir, ["memory", "64M"]);
});
after(async () => {
    await server.stop();
    tmp.remove();
});

async function settle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
        gcNow();
        await new Promise(resolve => setImmediate(resolve));
    }
}

/** `count` mixed operations, 16 in flight, each with freshly allocated 64 KiB buffers. */
async function churn(h: Handle, count: number): Promise<void> {
    const span = 64 * MiB - 65536;
    let next = 0;
    async function worker(): Promise<void> {
        for (;;) {
            const i = next++;
            if (i >= count) return;
            const offset = (i * 65536 * 7) % span;
            switch (i % 6) {
                case 0:
                case 1:
                    await h.pread(Buffer.alloc(65536), offset);
                    break;
                case 2:
                    await h.pwrite(Buffer.alloc(65536, i & 0xff), offset);
                    break;
                case 3:
                    await h.blockStatus(65536, offset, () => undefined);
                    break;
                case 4:
                    await h.zero(4096, offset);
                    break;
                case 5:
                    // The error path: rejected inside libnbd.
                    await h.pread(Buffer.alloc(65536), 64 * MiB).catch(() => undefined);
                    break;
            }
        }
    }
    await Promise.all(Array.from({ length: 16 }, worker));
}

test("20 000 operations and 200 handles keep RSS flat", async () => {
    const h = new Handle();
    h.addMetaContext(CONTEXT_BASE_ALLOCATION);
    await h.connectUnix(server.socket);
    await churn(h, 3000); // warm-up: JIT, allocator pools, nbdkit pages
    await settle();
    const before = process.memoryUsage();

    await churn(h, 20_000);
    for (let i = 0; i < 200; i++) {
        const extra = new Handle();
        await extra.connectUnix(server.socket);
        const pending = extra.pread(Buffer.alloc(65536), 0);
        if (i % 2 === 0) {
            await pending;
            extra.close();
        } else {
            extra.close(); // reject the pending read
            await pending.catch(() => undefined);
        }
    }
    await settle();
    const afterRun = process.memoryUsage();
    h.close();

    const rssGrowth = (afterRun.rss - before.rss) / MiB;
    const bufferGrowth = (afterRun.arrayBuffers - before.arrayBuffers) / MiB;
    // 20 000 × 64 KiB leaked buffers would be 1.2 GiB, 200 leaked handles several MiB.
    assert.ok(rssGrowth < 30, `RSS grew by ${rssGrowth.toFixed(1)} MiB`);
    assert.ok(bufferGrowth < 4, `ArrayBuffer memory grew by ${bufferGrowth.toFixed(1)} MiB`);
    console.log(`# leak check: RSS ${rssGrowth.toFixed(1)} MiB, ArrayBuffers ${bufferGrowth.toFixed(1)} MiB`);
});
