// SPDX-License-Identifier: GPL-3.0-or-later
// The file browser's pure parts: guest paths and breadcrumb steps, and the checks of browse-point's and
// browse-list's answers.
import { it } from "node:test";
import assert from "node:assert/strict";
import { childPath, pathSteps } from "../../../src/app/browse-path.ts";
import { parseBrowseListing, parseBrowseOpened } from "../../../src/browse-answer.ts";
import { HelperError } from "../../../src/helper-answer.ts";

function unexpected(fn: () => unknown, pattern: RegExp) {
    assert.throws(fn, (e: unknown) => e instanceof HelperError && e.kind === "unexpected" && pattern.test(e.detail));
}

it("joins folders and names and splits a folder into breadcrumb steps", () => {
    assert.equal(childPath("/", "etc"), "/etc");
    assert.equal(childPath("/etc", "hosts"), "/etc/hosts");
    assert.deepEqual(pathSteps("/"), [{ name: "", path: "/" }]);
    assert.deepEqual(pathSteps("/srv/files"), [{ name: "", path: "/" }, { name: "srv", path: "/srv" }, { name: "files", path: "/srv/files" }]);
});

it("takes browse-point's answer and refuses one without session, disk or volumes", () => {
    const good = { session: "0123456789abcdef", point: "vda.full.data", dev: "vda", socket: "/run/x.sock",
        volumes: [{ id: "p1", offset: 1048576, size: 1000, type: "ext4", mounted: true }] };
    assert.deepEqual(parseBrowseOpened(JSON.stringify(good)), good);
    unexpected(() => parseBrowseOpened(JSON.stringify({ ...good, session: 1 })), /^browse\.session is not string$/);
    unexpected(() => parseBrowseOpened(JSON.stringify({ ...good, volumes: undefined })), /^browse\.volumes is not a list$/);
    unexpected(() => parseBrowseOpened(JSON.stringify({ ...good, volumes: [{ id: "p1", size: 1 }] })), /^browse\.volumes\[0\]\.mounted is not boolean$/);
    unexpected(() => parseBrowseOpened("oops"), /^not JSON: oops$/);
});

it("takes browse-list's answer and refuses entries without name, size or time", () => {
    const good = { path: "/etc", entries: [{ name: "hosts", type: "file", size: 12, mtime: 1700000000 }, { name: "l", type: "symlink", size: 3, mtime: 1, target: "/x" }] };
    assert.deepEqual(parseBrowseListing(JSON.stringify(good)), good);
    unexpected(() => parseBrowseListing(JSON.stringify({ path: "/" })), /^listing\.entries is not a list$/);
    unexpected(() => parseBrowseListing(JSON.stringify({ path: "/", entries: [{ name: "a", type: "file", size: 1 }] })), /^listing\.entries\[0\]\.mtime is not number$/);
});
