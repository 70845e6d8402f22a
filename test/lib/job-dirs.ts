// SPDX-License-Identifier: GPL-3.0-or-later
// What a pull-mode job of ours leaves on the host besides the folder: its socket directory under
// /run/virtnbdbackup/jobs, its scratch directory in the scratch folder, their record beside the lock.
import fs from "node:fs";
import path from "node:path";
import { JOBS_DIR, LOCK_DIR } from "../../helper/backup/run-dir.ts";

/** Paths of the VM's job directories and record still there (the default scratch folder /var/tmp, or `scratchParent`). */
export function jobLeftovers(uuid: string, scratchParent = "/var/tmp"): string[] {
    const list = (dir: string, prefix: string) => fs.existsSync(dir)
        ? fs.readdirSync(dir).filter(n => n.startsWith(prefix)).map(n => path.join(dir, n)) : [];
    return [...list(JOBS_DIR, `${uuid}.`), ...list(scratchParent, `virtnbdbackup.${uuid}.`), ...list(LOCK_DIR, `${uuid}.job`)];
}
