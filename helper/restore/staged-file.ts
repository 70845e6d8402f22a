// SPDX-License-Identifier: GPL-3.0-or-later
// A small file (boot file, domain config) a restore writes: first as `<target>.partial`, durable, and
// given its name only when the whole run publishes, never replacing an existing file. Parent
// directories it had to create go again with it when the run fails.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { publish, refuseExisting, syncDirectory } from "../engine/output-file.ts";
import { partialFileName } from "../format/index.ts";
import { writeNewFile } from "../fs/safe-open.ts";
import { createMissing, resolveTrustedFolder, type TrustOptions } from "../fs/trusted-folder.ts";

export class StagedFile {
    private published = false;

    private constructor(readonly target: string, readonly partial: string, private readonly createdDirs: string[]) {}

    /**
     * Writes `content` (or a copy of the file `from`) as the partial of `target`, 0600. The target's folder
     * must be trusted (helper/fs/trusted-folder.ts, `trust` names owners accepted beside root); folders
     * missing there are made with `dirMode`. `target` becomes the real path it was checked as.
     */
    static async stage(target: string, content: { from: string } | { data: string | Buffer }, dirMode = 0o700, trust: TrustOptions = {}): Promise<StagedFile> {
        const role = "a folder a restore writes into";
        const parent = resolveTrustedFolder(path.dirname(target), role, trust);
        const real = path.join(parent.folder, path.basename(target));
        await refuseExisting(real);
        const made = createMissing(parent, role, dirMode, trust);
        const createdDirs = made ? parent.missing.slice(parent.missing.indexOf(made)).reverse() : [];
        const partial = partialFileName(real);
        const staged = new StagedFile(real, partial, createdDirs);
        try {
            // Created new (never through a name that exists, a symlink included), synced.
            await writeNewFile(partial, "from" in content ? await fsp.readFile(content.from) : content.data, 0o600);
        } catch (err) {
            await removeDirs(createdDirs);
            throw err;
        }
        return staged;
    }

    async publish(): Promise<void> {
        await publish(this.partial, this.target);
        this.published = true;
        await syncDirectory(path.dirname(this.target));
    }

    /** Removes what this file left: the partial, or the published file; then the directories made for it. Never throws. */
    async discard(): Promise<void> {
        await fsp.rm(this.published ? this.target : this.partial, { force: true }).catch(() => {});
        this.published = false;
        await removeDirs(this.createdDirs);
    }

    /** discard() for a signal handler that must exit at once. */
    discardNow(): void {
        try {
            fs.rmSync(this.published ? this.target : this.partial, { force: true });
            for (const dir of this.createdDirs)
                fs.rmdirSync(dir);
        } catch {
            // exiting anyway
        }
    }
}

/** Removes directories this run created, deepest first, each only while empty. */
async function removeDirs(dirs: string[]): Promise<void> {
    for (const dir of dirs) {
        try {
            await fsp.rmdir(dir);
        } catch {
            return;
        }
    }
}
