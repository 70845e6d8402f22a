// SPDX-License-Identifier: GPL-3.0-or-later
// The virsh shell's transcript split into answers (virsh-session.ts), from text as virsh 9 prints it, fed
// in pieces cut anywhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ShellTranscript } from "../../../helper/libvirt/virsh-session.ts";

/** What `virsh` printed for: start-up marker M0; `version` + M1; `echo hi` + M2; `domstate nope` + M3. */
const STDOUT = "Welcome to virsh, the virtualization interactive terminal.\n\nType:  'help' for help with commands\n" +
    "       'quit' to quit\n\nvirsh # echo --err M0\n" +
    "\nvirsh # version\nCompiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\n\n" +
    "virsh # echo --err M1\n" +
    "\nvirsh # echo hi\nhi\nvirsh # echo --err M2\n" +
    "\nvirsh # domstate nope\n\nvirsh # echo --err M3\n\nvirsh # ";
const STDERR = "error: M0\nerror: M1\nerror: M2\nerror: failed to get domain 'nope'\nerror: M3\n";

function answers(cut: number): { stdout: string; stderr: string }[] {
    const t = new ShellTranscript();
    for (const m of ["M0", "M1", "M2", "M3"])
        t.expect(m);
    const got = [];
    // Stdout and stderr arrive in pieces of `cut` characters, stdout first, then both interleaved.
    for (let at = 0; at < Math.max(STDOUT.length, STDERR.length); at += cut) {
        t.addStdout(STDOUT.slice(at, at + cut));
        for (let a = t.take(); a; a = t.take())
            got.push(a);
        t.addStderr(STDERR.slice(at, at + cut));
        for (let a = t.take(); a; a = t.take())
            got.push(a);
    }
    return got;
}

test("each command's stdout and stderr, without prompts and echoed lines, however the text arrives", () => {
    const expected = [
        { stdout: "", stderr: "" },
        { stdout: "Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\n\n", stderr: "" },
        { stdout: "hi\n", stderr: "" },
        { stdout: "\n", stderr: "error: failed to get domain 'nope'\n" },
    ];
    for (const cut of [1, 2, 7, 64, 10_000])
        assert.deepEqual(answers(cut), expected, `pieces of ${cut}`);
});

test("an answer is given only once both its stdout and its stderr are complete", () => {
    const t = new ShellTranscript();
    t.expect("M0");
    t.expect("M1");
    t.addStdout("virsh # echo --err M0\n\nvirsh # list\n Id   Name\n");
    t.addStderr("error: M0\n");
    assert.deepEqual(t.take(), { stdout: "", stderr: "" });
    assert.equal(t.take(), undefined);
    t.addStdout("\nvirsh # echo --err M1\n");
    assert.equal(t.take(), undefined, "stderr's marker not yet there");
    t.addStderr("error: M1\n");
    assert.deepEqual(t.take(), { stdout: " Id   Name\n\n", stderr: "" });
});
