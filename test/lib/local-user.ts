// SPDX-License-Identifier: GPL-3.0-or-later
// A real unprivileged user on the host, for attack tests: made with useradd for one test file, removed
// (with its home and every process it still runs) afterwards. Commands run as that user through runuser,
// with argv arrays.
import fs from "node:fs";
import path from "node:path";
import { run, runOk, type RunOptions, type RunResult } from "./exec.ts";

export interface LocalUser {
    readonly name: string;
    readonly uid: number;
    readonly gid: number;
    readonly home: string;
    /** Runs `cmd args` as the user (no shell), output collected. */
    run(cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>;
    /** run() that throws on a non-zero exit. */
    runOk(cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>;
    /** Removes the user, its processes and its home. Safe to call twice. */
    remove(): Promise<void>;
}

let counter = 0;

/** Creates a fresh user named vnbt<pid><n> (short: useradd allows 32 characters). */
export async function createLocalUser(): Promise<LocalUser> {
    const name = `vnbt${process.pid}u${counter++}`;
    await runOk("useradd", ["--create-home", "--shell", "/bin/sh", "--user-group", name]);
    const id = (flag: string) => runOk("id", [flag, name]).then(r => Number(r.stdout.trim()));
    const [uid, gid] = [await id("-u"), await id("-g")];
    const home = `/home/${name}`;
    let removed = false;
    const asUser = (cmd: string, args: readonly string[], opts?: RunOptions) =>
        run("runuser", ["-u", name, "--", cmd, ...args], { cwd: "/", ...opts });
    return {
        name, uid, gid, home,
        run: asUser,
        async runOk(cmd, args, opts) {
            const r = await asUser(cmd, args, opts);
            if (r.code !== 0)
                throw new Error(`${name}: ${cmd} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
            return r;
        },
        async remove() {
            if (removed)
                return;
            removed = true;
            await run("pkill", ["-KILL", "-u", name]);
            await run("userdel", ["--remove", "--force", name]);
            fs.rmSync(home, { recursive: true, force: true });
        },
    };
}

/** Calls fn with a fresh user, removed afterwards whatever happens. */
export async function withLocalUser<T>(fn: (user: LocalUser) => Promise<T>): Promise<T> {
    const user = await createLocalUser();
    try {
        return await fn(user);
    } finally {
        await user.remove();
    }
}

/** A new folder `name` in `parent` owned by the user (as if it were their home or a group share). */
export function userFolder(user: LocalUser, parent: string, name: string): string {
    const d = path.join(parent, name);
    fs.mkdirSync(d);
    fs.chownSync(d, user.uid, user.gid);
    return d;
}
