// SPDX-License-Identifier: GPL-3.0-or-later
// Where browse sessions live: root only, one folder per session, named by a random id.
import path from "node:path";

export const BROWSE_DIR = "/run/virtnbdbackup/browse";

export function isSessionId(value: string): boolean {
    return /^[0-9a-f]{16}$/.test(value);
}

export function sessionDir(id: string): string {
    if (!isSessionId(id))
        throw new Error(`not a browse session id: ${id}`);
    return path.join(BROWSE_DIR, id);
}
