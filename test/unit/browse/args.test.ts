// SPDX-License-Identifier: GPL-3.0-or-later
// The browse commands' values: checked before anything runs, one line on what is wrong.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { checkIdleSeconds, checkOpenArgs, checkPathArgs, checkRestoreArgs, checkSessionArg, DEFAULT_IDLE_SECONDS } from "../../../helper/browse/args.ts";

let dir: string;
let server: net.Server;
let socket: string;

before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "browse-args-"));
    socket = path.join(dir, "nbd.sock");
    server = net.createServer();
    await new Promise<void>(resolve => server.listen(socket, resolve));
});

after(async () => {
    await new Promise(resolve => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
});

it("browse-open takes a unix socket in a trusted folder, an optional export name and idle time", () => {
    assert.deepEqual(checkOpenArgs({ socket }), { socket, exportName: "", idleSeconds: DEFAULT_IDLE_SECONDS });
    assert.deepEqual(checkOpenArgs({ socket, export: "vda", idleSeconds: "60" }), { socket, exportName: "vda", idleSeconds: 60 });
});

it("browse-open refuses what is not a root socket path, names with commas, odd idle times", () => {
    const file = path.join(dir, "plain");
    fs.writeFileSync(file, "");
    const cases: [Record<string, string>, RegExp][] = [
        [{ socket: "relative.sock" }, /absolute, normalized path/],
        [{ socket: `${dir}/../x.sock` }, /absolute, normalized path/],
        [{ socket: `${dir}/a,b.sock` }, /without commas/],
        [{ socket: path.join(dir, "missing.sock") }, /does not exist/],
        [{ socket: file }, /is not a unix socket/],
        [{ socket, export: "a,b" }, /--export/],
        [{ socket, idleSeconds: "1" }, /--idle-seconds/],
        [{ socket, idleSeconds: "1e3" }, /--idle-seconds/],
    ];
    for (const [args, message] of cases)
        assert.throws(() => checkOpenArgs(args as { socket: string }), message, JSON.stringify(args));
});

it("browse-open refuses a socket in a folder others may write", () => {
    const open = path.join(dir, "open");
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    const s = net.createServer();
    return new Promise<void>((resolve, reject) => {
        s.listen(path.join(open, "x.sock"), () => {
            try {
                assert.throws(() => checkOpenArgs({ socket: path.join(open, "x.sock") }), /writable by every user/);
                resolve();
            } catch (e) {
                reject(e);
            } finally {
                s.close();
            }
        });
    });
});

it("sessions, volumes and guest paths are checked before use", () => {
    assert.deepEqual(checkSessionArg({ session: "0123456789abcdef" }), { session: "0123456789abcdef" });
    assert.throws(() => checkSessionArg({ session: "../../etc" }), /not a browse session id/);
    assert.deepEqual(checkPathArgs({ session: "0123456789abcdef", volume: "p2", path: "/etc" }),
        { session: "0123456789abcdef", volume: "p2", path: "/etc" });
    assert.throws(() => checkPathArgs({ session: "0123456789abcdef", volume: "../p1", path: "/" }), /--volume/);
    assert.throws(() => checkPathArgs({ session: "0123456789abcdef", volume: "disk", path: "/a/../b" }), /--path/);
    assert.throws(() => checkRestoreArgs({ session: "0123456789abcdef", volume: "disk", path: "/a", to: "rel" }), /--to must be an absolute/);
});

it("browse-point's --idle-seconds: the default, a whole number in range, or a one-line refusal", () => {
    assert.equal(checkIdleSeconds(undefined), DEFAULT_IDLE_SECONDS);
    assert.equal(checkIdleSeconds("300"), 300);
    for (const bad of ["4", "86401", "1.5", "-5", "5m", ""])
        assert.throws(() => checkIdleSeconds(bad), /^BrowseArgumentError: --idle-seconds must be a whole number from 5 to 86400$/, bad);
});
