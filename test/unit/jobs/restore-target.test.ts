// SPDX-License-Identifier: GPL-3.0-or-later
// The helper's checks of a restore target on a real (temporary) file system: empty or new folders only,
// symlinks resolved before the rules apply again.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { RestoreRequestError, validateRestoreTarget } from "../../../helper/jobs/restore-target.ts";

let tmp = "";
let backup = "";

before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), `vnbt-${process.pid}-target-`));
    backup = path.join(tmp, "backup");
    fs.mkdirSync(backup);
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function refusal(target: string): string | undefined {
    try {
        validateRestoreTarget(target, backup);
        return undefined;
    } catch (err) {
        assert.ok(err instanceof RestoreRequestError, String(err));
        assert.equal(err.field, "target");
        return err.code;
    }
}

it("accepts a new folder and an empty one, answering the real path", () => {
    assert.equal(validateRestoreTarget(path.join(tmp, "new", "deeper"), backup), path.join(fs.realpathSync(tmp), "new", "deeper"));
    fs.mkdirSync(path.join(tmp, "empty"));
    assert.equal(refusal(path.join(tmp, "empty")), undefined);
});

it("refuses a folder with content and a file", () => {
    fs.mkdirSync(path.join(tmp, "full"));
    fs.writeFileSync(path.join(tmp, "full", "x"), "x");
    assert.equal(refusal(path.join(tmp, "full")), "not-empty");
    assert.equal(refusal(path.join(tmp, "full", "x")), "not-a-folder");
});

it("follows symlinks before applying the rules: no way into /etc or into the backup folder", () => {
    fs.symlinkSync("/etc", path.join(tmp, "etc-link"));
    assert.equal(refusal(path.join(tmp, "etc-link", "restore")), "resolves-elsewhere");
    fs.symlinkSync(backup, path.join(tmp, "backup-link"));
    assert.equal(refusal(path.join(tmp, "backup-link", "restore")), "resolves-elsewhere");
    assert.equal(refusal(path.join(backup, "restore")), "inside-backup-folder");
});
