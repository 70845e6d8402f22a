// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { JOURNAL_NAME, RunJournal } from "../../../helper/backup/journal.ts";

function folder() {
    return fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-journal-"));
}

test("a failed run removes what it recorded and nothing else", () => {
    const dir = folder();
    fs.writeFileSync(path.join(dir, "vda.full.data"), "earlier backup");
    const { journal, rolledBack } = RunJournal.open(dir);
    assert.deepEqual(rolledBack, []);
    journal.add(path.join(dir, "vda.inc.virtnbdbackup.1.data"), "vda.inc.virtnbdbackup.1.data.partial");
    fs.writeFileSync(path.join(dir, "vda.inc.virtnbdbackup.1.data.partial"), "half");
    journal.rollBack();
    assert.deepEqual(fs.readdirSync(dir), ["vda.full.data"]);
    fs.rmSync(dir, { recursive: true });
});

test("an existing file is never recorded, so a rollback cannot delete it", () => {
    const dir = folder();
    fs.writeFileSync(path.join(dir, "vda.full.data"), "earlier backup");
    const { journal } = RunJournal.open(dir);
    assert.throws(() => journal.add("vda.full.data"), /already exists/);
    journal.rollBack();
    assert.deepEqual(fs.readdirSync(dir), ["vda.full.data"]);
    fs.rmSync(dir, { recursive: true });
});

test("a committed run keeps its files and drops the journal", () => {
    const dir = folder();
    const { journal } = RunJournal.open(dir);
    journal.add("vda.full.data");
    fs.writeFileSync(path.join(dir, "vda.full.data"), "done");
    journal.commit();
    assert.deepEqual(fs.readdirSync(dir), ["vda.full.data"]);
    fs.rmSync(dir, { recursive: true });
});

test("the next run rolls back the files of a run that died; a live run's journal is respected", () => {
    const dir = folder();
    // A process that exits at once stands for a run killed with SIGKILL.
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    fs.writeFileSync(path.join(dir, JOURNAL_NAME), JSON.stringify({ pid: dead, files: ["vda.full.data", "../outside", ".hidden"] }));
    fs.writeFileSync(path.join(dir, "vda.full.data"), "complete-looking but unrecorded");
    fs.writeFileSync(path.join(dir, ".hidden"), "x");
    const { journal, rolledBack } = RunJournal.open(dir);
    assert.deepEqual(rolledBack, ["vda.full.data"]);
    assert.ok(fs.existsSync(path.join(dir, ".hidden")));
    journal.commit();

    fs.writeFileSync(path.join(dir, JOURNAL_NAME), JSON.stringify({ pid: process.ppid, files: [] }));
    assert.throws(() => RunJournal.open(dir), /another backup run/);
    fs.rmSync(dir, { recursive: true });
});

test("the checkpoint a run was creating is handed to the next run after it died, with its token", () => {
    const dir = folder();
    const { journal } = RunJournal.open(dir);
    journal.setCheckpoint({ name: "virtnbdbackup.3", token: "0123456789abcdef" });
    const saved = JSON.parse(fs.readFileSync(path.join(dir, JOURNAL_NAME), "utf8")) as { pid: number };
    // The run dies: its journal stays with a pid that no longer runs.
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    fs.writeFileSync(path.join(dir, JOURNAL_NAME), JSON.stringify({ ...saved, pid: dead }));
    const next = RunJournal.open(dir);
    assert.deepEqual(next.deadCheckpoint, { name: "virtnbdbackup.3", token: "0123456789abcdef" });
    next.journal.commit();
    // A run that finished (or never made a checkpoint) hands over none.
    const third = RunJournal.open(dir);
    assert.equal(third.deadCheckpoint, undefined);
    third.journal.commit();
    fs.rmSync(dir, { recursive: true });
});

test("a run killed after writing the checkpoint list, before its commit: the next run puts the old list back", () => {
    const dir = folder();
    const list = path.join(dir, "vm.cpt");
    fs.writeFileSync(list, JSON.stringify(["virtnbdbackup.0"]));
    const { journal } = RunJournal.open(dir);
    journal.add("vda.inc.virtnbdbackup.1.data");
    fs.writeFileSync(path.join(dir, "vda.inc.virtnbdbackup.1.data"), "finished data");
    journal.willReplace(list);
    fs.writeFileSync(list, JSON.stringify(["virtnbdbackup.0", "virtnbdbackup.1"]));
    // Killed here: the journal stays, with a pid that no longer runs.
    const saved = JSON.parse(fs.readFileSync(path.join(dir, JOURNAL_NAME), "utf8")) as { pid: number };
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    fs.writeFileSync(path.join(dir, JOURNAL_NAME), JSON.stringify({ ...saved, pid: dead }));
    const next = RunJournal.open(dir);
    assert.deepEqual(next.rolledBack, ["vda.inc.virtnbdbackup.1.data"]);
    assert.deepEqual(JSON.parse(fs.readFileSync(list, "utf8")), ["virtnbdbackup.0"]);
    next.journal.commit();

    // A first full's list did not exist before: the rollback removes it; in-process rollBack() does the same.
    fs.rmSync(list);
    const { journal: full } = RunJournal.open(dir);
    full.willReplace("vm.cpt");
    fs.writeFileSync(list, JSON.stringify(["virtnbdbackup.0"]));
    full.rollBack();
    assert.equal(fs.existsSync(list), false);
    assert.deepEqual(fs.readdirSync(dir), []);
    fs.rmSync(dir, { recursive: true });
});
