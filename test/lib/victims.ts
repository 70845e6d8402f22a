// SPDX-License-Identifier: GPL-3.0-or-later
// A root-only folder standing for /root or /etc in attack tests, holding a secret whose content, mode and
// times must not change: untouched() runs an attack and asserts nothing in it was written, created, deleted
// or even read (the secret's atime is set days back, which relatime updates on any read).
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { RunResult } from "./exec.ts";

/** The victims' times: days back, so that a read shows in the atime also under relatime. */
const OLD = new Date(Date.now() - 3 * 86400_000);

export interface Victims {
    readonly dir: string;
    readonly secret: string;
    /** Runs `attack` and asserts the folder is exactly as before and the secret was not read. */
    untouched<T>(attack: () => Promise<T>): Promise<T>;
    remove(): void;
}

/** What a folder holds: name -> sha256 (or link target), mode, mtime, inode (anything written, chmod'ed or replaced shows). */
export function snapshot(dir: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const name of fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).sort()) {
        const file = path.join(dir, name);
        const st = fs.lstatSync(file);
        const sum = st.isFile() ? crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex") : st.isSymbolicLink() ? `-> ${fs.readlinkSync(file)}` : "dir";
        out.set(name, `${sum} ${st.mode.toString(8)} ${st.mtimeMs} ${st.ino}`);
    }
    return out;
}

/** Makes /root/vnbt-<pid>-<tag>-XXXX holding `secret` (0600) and whatever `fill` adds. */
export function createVictims(tag: string, fill: (dir: string) => void = () => {}): Victims {
    const dir = fs.mkdtempSync(path.join("/root", `vnbt-${process.pid}-${tag}-`));
    const secret = path.join(dir, "secret");
    fs.writeFileSync(secret, "root's secret\n", { mode: 0o600 });
    fill(dir);
    return {
        dir, secret,
        async untouched(attack) {
            fs.utimesSync(secret, OLD, OLD);
            const before = snapshot(dir);
            const st = fs.statSync(secret);
            const result = await attack();
            const now = fs.statSync(secret);
            assert.equal(now.atimeMs, st.atimeMs, "the victim file was not read");
            assert.equal(now.ctimeMs, st.ctimeMs, "the victim file was not changed");
            assert.deepEqual(snapshot(dir), before, "nothing outside the chosen folders was written, created or deleted");
            return result;
        },
        remove() {
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/** Asserts a command was refused (non-zero exit) with a message matching `pattern`. */
export function refused(r: RunResult, pattern: RegExp): void {
    assert.notEqual(r.code, 0, `refused: ${r.stdout} ${r.stderr}`);
    assert.match(r.stderr, pattern);
}
