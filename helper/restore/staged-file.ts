// A small file (boot file, domain config) a restore writes: first as `<target>.partial`, durable, and
// given its name only when the whole run publishes, never replacing an existing file. Parent
// directories it had to create go again with it when the run fails.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { publish, refuseExisting, syncDirectory } from "../engine/output-file.ts";
import { partialFileName } from "../format/index.ts";

export class StagedFile {
    private published = false;

    private constructor(readonly target: string, readonly partial: string, private readonly createdDirs: string[]) {}

    /** Writes `content` (or a copy of the file `from`) as the partial of `target`. */
    static async stage(target: string, content: { from: string } | { data: string | Buffer }): Promise<StagedFile> {
        await refuseExisting(target);
        const createdDirs = await makeParents(path.dirname(target));
        const partial = partialFileName(target);
        const staged = new StagedFile(target, partial, createdDirs);
        try {
            // Exclusive: a file of that name that is not ours is never replaced either.
            if ("from" in content)
                await fsp.copyFile(content.from, partial, fs.constants.COPYFILE_EXCL);
            else
                await fsp.writeFile(partial, content.data, { flag: "wx" });
            const fh = await fsp.open(partial, "r+");
            try {
                await fh.sync();
            } finally {
                await fh.close();
            }
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EEXIST")
                await fsp.rm(partial, { force: true }).catch(() => {});
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

/** Creates the missing directories of `dir`; returns them deepest first. */
async function makeParents(dir: string): Promise<string[]> {
    const missing: string[] = [];
    for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d))
        missing.push(d);
    await fsp.mkdir(dir, { recursive: true });
    return missing;
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
