// SPDX-License-Identifier: GPL-3.0-or-later
// What the settings dialog says about a chosen backup folder beyond the pure rules (folder-rules.ts), from
// what is on disk: whether it exists, whether it holds things that are not backups (a folder shared with
// other data), and whether this VM's own disk images live in it (refused: prune and delete work on what the
// folder holds, and a restore beside the running disks is one click from overwriting them). Read-only.
import fs from "node:fs";
import path from "node:path";
import { chainNumber } from "../format/chain-folders.ts";
import { chainIdents, isBackupFile } from "./prune.ts";
import { within } from "../protocol/restore-rules.ts";
import type { FolderFacts } from "../protocol/job-types.ts";

/** The facts of `folder`, a real path the trusted-folder rule accepted; `diskPaths`: the VM's image files. */
export function folderFacts(folder: string, diskPaths: string[]): FolderFacts {
    const diskImages = diskPaths.filter(p => within(realOrSame(p), folder));
    let entries: fs.Dirent[];
    try {
        entries = fs.readdirSync(folder, { withFileTypes: true });
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT")
            return { exists: false, foreignEntries: 0, diskImages };
        throw err;
    }
    const idents = chainIdents(entries.filter(e => e.isFile()).map(e => e.name));
    const ours = (e: fs.Dirent) =>
        (e.isFile() && isBackupFile(e.name, idents)) ||
        (e.isDirectory() && (e.name === "checkpoints" || chainNumber(e.name) !== undefined));
    return { exists: true, foreignEntries: entries.filter(e => !ours(e)).length, diskImages };
}

function realOrSame(file: string): string {
    try {
        return fs.realpathSync(file);
    } catch {
        return path.resolve(file);
    }
}
