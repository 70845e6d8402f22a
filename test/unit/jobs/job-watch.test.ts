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

test("job changes the VM list shows are reported once each", async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-job-watch-")), "jobs");
    fs.mkdirSync(dir);
    const file = path.join(dir, `${UUID}.json`);
    const job = { id: "mxa-00000001", domain: "web", kind: "backup" };
    writeFileAtomic(file, JSON.stringify({ ...job, id: "mx9-00000000", state: "succeeded" }));
    const seen: JobChange[] = [];
    const controller = new AbortController();
    watchJobs(c => seen.push(c), controller.signal, dir);
    const write = async (state: object) => {
        writeFileAtomic(file, JSON.stringify({ ...job, ...state }));
        await sleep(60);
    };
    await write({ state: "running", queuedSince: 1 });
    await write({ state: "running" });
    await write({ state: "running", progress: 10 });
    await write({ state: "running", progress: 90 });
    await write({ state: "succeeded" });
    await write({ state: "succeeded", pruned: { chains: [], freed: 0 } });
    fs.writeFileSync(path.join(dir, `${UUID}.cancel`), "x");
    fs.writeFileSync(path.join(dir, "other.json"), "{}");
    await sleep(60);
    assert.deepEqual(seen.map(c => `${c.domain}:${c.event}:${c.state}`),
                     ["web:JobChanged:running", "web:JobChanged:running", "web:JobChanged:succeeded", "web:JobChanged:succeeded"]);
    controller.abort();
    await write({ state: "running", id: "mxb-00000002" });
    assert.equal(seen.length, 4, "nothing after the watch was stopped");
});
