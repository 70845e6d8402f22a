// SPDX-License-Identifier: GPL-3.0-or-later
// Where browse sessions live: root only, one folder per session, named by a random id. Every path of a
// session comes from sessionDir(), which first checks (and makes) the browse folder as run-dir.ts's
// privateDir does: a real folder of root's, 0700, under folders only root can change. A browse folder
// someone else could change (a /run/virtnbdbackup made writable by hand, a symlink planted there) is
// refused before anything in it is read, written or removed: a session's cleanup removes a whole folder.
import path from "node:path";
import { privateDir, RUN_DIR } from "../backup/run-dir.ts";

export const BROWSE_DIR = path.join(RUN_DIR, "browse");

export function isSessionId(value: string): boolean {
    return /^[0-9a-f]{16}$/.test(value);
}

/** The browse folder, checked (and made when missing). */
export function browseDir(): string {
    return privateDir(BROWSE_DIR);
}

export function sessionDir(id: string): string {
    if (!isSessionId(id))
        throw new Error(`not a browse session id: ${id}`);
    return path.join(browseDir(), id);
}
