// SPDX-License-Identifier: GPL-3.0-or-later
// Throughput and time left from successive states of a job (src/app/backup-rate.ts).
import { it } from "node:test";
import assert from "node:assert/strict";
import { addSample, formatDuration, overall, percent, RATE_WINDOW_MS, secondsLeft, throughput, type Sample } from "../../../src/app/backup-rate.ts";

const MiB = 1 << 20;

it("measures bytes per second between the first and last sample", () => {
    let s: Sample[] = [];
    s = addSample(s, { at: 0, done: 0 });
    assert.equal(throughput(s), null, "one sample has no rate");
    s = addSample(s, { at: 2000, done: 200 * MiB });
    assert.equal(throughput(s), 100 * MiB);
    s = addSample(s, { at: 2000, done: 200 * MiB });
    assert.equal(s.length, 2, "the same state read twice is one sample");
});

it("follows the recent rate: samples older than the window drop out", () => {
    let s: Sample[] = [];
    for (let t = 0; t <= 20_000; t += 1000)
        s = addSample(s, { at: t, done: t < 10_000 ? t * 1000 : 10_000 * 1000 + (t - 10_000) * 100 });
    assert.ok(s[0].at >= 20_000 - RATE_WINDOW_MS - 1000 && s[0].at <= 20_000 - RATE_WINDOW_MS);
    assert.equal(throughput(s), 100 * 1000, "only the slow last 10 s count");
});

it("starts over when done goes backwards (a new job)", () => {
    const s = addSample([{ at: 0, done: 0 }, { at: 1000, done: 500 }], { at: 2000, done: 10 });
    assert.deepEqual(s, [{ at: 2000, done: 10 }]);
});

it("computes the time left, known only with a rate and a total", () => {
    assert.equal(secondsLeft(50, 150, 10), 10);
    assert.equal(secondsLeft(50, 151, 10), 11, "rounded up");
    assert.equal(secondsLeft(150, 150, null), 0);
    assert.equal(secondsLeft(0, 0, 10), null);
    assert.equal(secondsLeft(10, 100, null), null);
    assert.equal(secondsLeft(10, 100, 0), null);
});

it("formats durations and sums disks", () => {
    assert.equal(formatDuration(7), "0:07");
    assert.equal(formatDuration(245), "4:05");
    assert.equal(formatDuration(3909), "1:05:09");
    assert.deepEqual(overall([{ done: 1, total: 4 }, { done: 2, total: 6 }]), { done: 3, total: 10 });
    assert.equal(percent(3, 10), 30);
    assert.equal(percent(3, 0), 0);
    assert.equal(percent(11, 10), 100);
});
