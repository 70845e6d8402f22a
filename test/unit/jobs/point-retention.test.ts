// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import { keptPoints, mergeSteps } from "../../../helper/jobs/point-retention.ts";

/** Points at the given local times, named virtnbdbackup.0.. oldest first. */
const at = (...times: string[]) => times.map((t, i) => ({ name: `virtnbdbackup.${i}`, date: new Date(t) }));
const names = (s: Set<string>) => [...s].map(n => Number(n.split(".")[1])).sort((a, b) => a - b);

test("keep-last: the newest N", () => {
    const points = at("2026-12-01T10:00", "2026-12-02T10:00", "2026-12-03T10:00", "2026-12-04T10:00");
    assert.deepEqual(names(keptPoints(points, { last: 2 })), [2, 3]);
    assert.deepEqual(names(keptPoints(points, { last: 9 })), [0, 1, 2, 3]);
    assert.deepEqual(names(keptPoints(points, {})), [3], "the newest point always stays");
});

test("keep-daily: the newest point of each of the last N days that have one", () => {
    const points = at("2026-12-01T10:00", "2026-12-01T22:00", "2026-12-02T09:00", "2026-12-02T21:00", "2026-12-04T08:00", "2026-12-04T20:00");
    assert.deepEqual(names(keptPoints(points, { daily: 2 })), [3, 5]);
    assert.deepEqual(names(keptPoints(points, { daily: 3 })), [1, 3, 5]);
});

test("rules after keep-last skip periods a kept point covers (Proxmox semantics)", () => {
    const points = at("2026-12-01T10:00", "2026-12-02T10:00", "2026-12-03T09:00", "2026-12-03T21:00");
    // keep-last 1 keeps .3 (Dec 3); keep-daily 2 then takes Dec 2 and Dec 1, not .2 of the covered Dec 3.
    assert.deepEqual(names(keptPoints(points, { last: 1, daily: 2 })), [0, 1, 3]);
});

test("keep-weekly uses ISO weeks (Monday first); keep-monthly calendar months", () => {
    // 2026-12-27 is a Sunday (week 52), 2026-12-28 a Monday (week 53), 2027-01-03 a Sunday (week 53 of 2026).
    const points = at("2026-12-20T10:00", "2026-12-27T10:00", "2026-12-28T10:00", "2027-01-03T10:00", "2027-01-04T10:00");
    assert.deepEqual(names(keptPoints(points, { weekly: 3 })), [1, 3, 4]);
    assert.deepEqual(names(keptPoints(points, { monthly: 2 })), [2, 4]);
});

test("merge steps: a prefix becomes a full, middle runs one incremental, a run before the newest waits", () => {
    const points = Array.from({ length: 10 }, (_, i) => `virtnbdbackup.${i}`);
    const kept = new Set(["virtnbdbackup.3", "virtnbdbackup.6", "virtnbdbackup.9"]);
    assert.deepEqual(mergeSteps(points, kept), {
        steps: [
            { from: "virtnbdbackup.4", point: "virtnbdbackup.6", drops: ["virtnbdbackup.4", "virtnbdbackup.5"] },
            { point: "virtnbdbackup.3", drops: ["virtnbdbackup.0", "virtnbdbackup.1", "virtnbdbackup.2"] },
        ],
        waiting: ["virtnbdbackup.7", "virtnbdbackup.8"],
    });
    assert.deepEqual(mergeSteps(points, new Set(points)), { steps: [], waiting: [] });
    assert.deepEqual(mergeSteps(points, new Set(["virtnbdbackup.0", "virtnbdbackup.8"])).steps,
        [{ from: "virtnbdbackup.1", point: "virtnbdbackup.8", drops: points.slice(1, 8) }]);
});
