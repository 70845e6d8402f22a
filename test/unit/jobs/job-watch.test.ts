// SPDX-License-Identifier: GPL-3.0-or-later
// The job watch behind `helper watch-vms`: a line when a VM's job starts, waits, ends or gets its pruning;
// none for progress alone, for files that are not job states, or after it was stopped.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { writeFileAtomic } from "../../../helper/jobs/atomic-file.ts";
import { watchJobs, type JobChange } from "../../../helper/jobs/job-watch.ts";

const UUID = "0f0e0d0c-0b0a-0908-0706-050403020100";
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

test("job changes the VM list shows are reported once each", async t => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-job-watch-")), "jobs");
    fs.mkdirSync(dir);
    const file = path.join(dir, `${UUID}.json`);
    const job = { id: "mxa-00000001", domain: "web", kind: "backup" };
    writeFileAtomic(file, JSON.stringify({ ...job, id: "mx9-00000000", state: "succeeded" }));
    const seen: string[] = [];
    const controller = new AbortController();
    t.after(() => controller.abort());
    watchJobs((c: JobChange) => seen.push(`${c.domain}:${c.event}:${c.state}`), controller.signal, dir);
    // Each write that changes what the list shows is awaited before the next (one read may see two quick writes).
    const write = (state: object) => writeFileAtomic(file, JSON.stringify({ ...job, ...state }));
    const reported = async (n: number) => {
        for (let waited = 0; seen.length < n; waited += 10) {
            assert.ok(waited < 10_000, `${n} changes expected, seen: ${seen.join(", ")}`);
            await sleep(10);
        }
    };
    write({ state: "running", queuedSince: 1 });
    await reported(1);
    write({ state: "running" });
    await reported(2);
    write({ state: "running", progress: 10 });
    write({ state: "running", progress: 90 });
    fs.writeFileSync(path.join(dir, `${UUID}.cancel`), "x");
    fs.writeFileSync(path.join(dir, "other.json"), "{}");
    write({ state: "succeeded" });
    await reported(3);
    write({ state: "succeeded", pruned: { chains: [], freed: 0 } });
    await reported(4);
    await sleep(100);
    assert.deepEqual(seen, ["web:JobChanged:running", "web:JobChanged:running", "web:JobChanged:succeeded", "web:JobChanged:succeeded"],
                     "progress and other files are not reported");
    controller.abort();
    write({ state: "running", id: "mxb-00000002" });
    await sleep(100);
    assert.equal(seen.length, 4, "nothing after the watch was stopped");
});
