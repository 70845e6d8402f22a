// SPDX-License-Identifier: GPL-3.0-or-later
// A host folder that receives bytes from a backup or a guest (files copied out of a browsed guest, the
// overlays and moved disks of a VM started from a backup): trusted (trusted-folder.ts), and, as backup and
// restore folders, never a system folder (/etc, /usr, /boot, /run, ...: folder-rules.ts), neither as typed
// nor where its symlinks lead. A guest's file in /etc/cron.d or a console log in /etc/profile.d would run
// as root on the host.
import { checkFolder, describeFolderProblem } from "../protocol/folder-rules.ts";
import { resolveTrustedFolder, UntrustedFolderError, type FolderRole, type TrustedFolder } from "./trusted-folder.ts";

/** resolveTrustedFolder for `input` after folder-rules' checkFolder on it and on its real path; `role` names it ("an overlay folder"). */
export function resolveHostFolder(input: string, role: FolderRole): TrustedFolder {
    const rule = (folder: string, what: string) => {
        const checked = checkFolder(folder);
        if ("problem" in checked)
            throw new UntrustedFolderError(`${what}${describeFolderProblem(checked.problem, checked.forbidden).replace("the backup folder", role)}`);
    };
    rule(input, "");
    const trusted = resolveTrustedFolder(input, role);
    rule(trusted.folder, `${input} leads to ${trusted.folder}: `);
    return trusted;
}
