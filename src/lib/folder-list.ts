// SPDX-License-Identifier: GPL-3.0-or-later
// The folder names under a path, for the folder fields' suggestions: Cockpit's own file listing channel
// (fslist1, as Cockpit's file autocompletion uses it), as root where the session may, not watching.
import cockpit from "./cockpit";

interface FslistMessage {
    event?: string;
    path?: string;
    type?: string;
}

/** The names of the folders directly under `dir`, sorted; none when it cannot be listed. */
export function listSubfolders(dir: string): Promise<string[]> {
    return new Promise(resolve => {
        const names: string[] = [];
        const done = () => resolve(names.sort((a, b) => a.localeCompare(b)));
        const channel = cockpit.channel({ payload: "fslist1", path: dir, superuser: "try", watch: false });
        channel.addEventListener("message", (_event, data) => {
            let message: FslistMessage;
            try {
                message = JSON.parse(data) as FslistMessage;
            } catch {
                return;
            }
            if (message.event === "present" && message.type === "directory" && message.path)
                names.push(message.path);
            else if (message.event === "present-done")
                channel.close();
        });
        channel.addEventListener("close", done);
    });
}
