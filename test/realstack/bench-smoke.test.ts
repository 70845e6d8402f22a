// SPDX-License-Identifier: GPL-3.0-or-later
// The benchmark's smoke run (small VM, one repetition): it must finish, print its table, and its own
// correctness checks (every timed backup and restore compared with the expected image) must have passed.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { run } from "../lib/exec.ts";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

test("npm run bench --smoke: runs, prints the table, its correctness checks pass", { timeout: 240_000 }, async () => {
    const r = await run(process.execPath, ["--import", "tsx", "bench/backup-bench.ts", "--smoke"], { cwd: root, timeoutMs: 230_000 });
    const why = `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr (last lines)\n${r.stderr.split("\n").slice(-30).join("\n")}`;
    assert.equal(r.code, 0, why);
    assert.match(r.stdout, /^\| Measurement \| median s \| min–max s \| runs \| MB\/s \| peak RSS MB \| CPU s \| output MB \|$/m, why);
    assert.match(r.stdout, /^\| Goal \| target \| measured \| result \|$/m, why);
    // Rows that must have been measured (a number in the median column, not n/a).
    for (const label of ["floor: backup-begin", "Python virtnbdbackup full", "ours virtnbdbackup full", "ours virtnbdbackup full -z", "ours virtnbdbackup inc, 4 MiB dirty",
        "ours virtnbdbackup inc, 0 MiB dirty", "floor: virsh backup-begin (pull, incremental, new checkpoint) + domjobabort",
        "floor (200 × 64 KiB): backup-begin", "ours virtnbdbackup inc, 200 × 64 KiB dirty", "ours virtnbdbackup inc -z, 200 × 64 KiB dirty",
        "floor (200 × 64 KiB), in the -z chain's rounds: backup-begin",
        "program start from a dropped page cache: nbdcopy --version (info)", "program start from a dropped page cache: ours virtnbdbackup --version (info)"])
        assert.match(r.stdout, new RegExp(`^\\| ${label.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&")}[^|]* \\| \\d+\\.\\d\\d \\|`, "m"), `${label}: ${why}`);
    const checks = /^Correctness: all (\d+) checks passed/m.exec(r.stdout);
    assert.ok(checks, why);
    // The floor's copy, our plain and -z fulls, our inc chain (+ our restore of the Python full when it works);
    // the fragmented case's floor copy and our plain and -z fragmented chains.
    assert.ok(Number(checks[1]) >= 7, why);
    assert.doesNotMatch(r.stderr, /correctness check FAILED/, why);
});
