// SPDX-License-Identifier: GPL-3.0-or-later
// The VM list's host-wide line "Backup jobs at once: N" with its Change… button (the job queue's size).
import { useEffect, useState } from "react";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import cockpit from "../lib/cockpit";
import { errorDetail, getHostSettings } from "../helper-client";
import type { HostSettingsAnswer } from "../backup-types";
import { QueueDialog } from "./queue-dialog";

const _ = cockpit.gettext;

export function QueueSetting() {
    const [settings, setSettings] = useState<HostSettingsAnswer | null>(null);
    const [failure, setFailure] = useState<string | null>(null);
    const [editing, setEditing] = useState(false);
    useEffect(() => {
        getHostSettings().then(setSettings, (error: unknown) => setFailure(errorDetail(error)));
    }, []);
    if (failure)
        return <p id="queue-setting" className="vnb-queue-setting">{cockpit.format(_("Backup jobs at once: unknown ($0)"), failure)}</p>;
    if (!settings)
        return null;
    return (
        <p id="queue-setting" className="vnb-queue-setting" data-max={settings.maxBackupJobs}>
            <span id="queue-setting-text">
                {settings.isDefault
                    ? cockpit.format(_("Backup jobs at once: $0 (default for this host)"), settings.maxBackupJobs)
                    : cockpit.format(_("Backup jobs at once: $0"), settings.maxBackupJobs)}
            </span>
            {" "}
            <Button id="queue-setting-edit" variant="link" isInline onClick={() => setEditing(true)}
                    aria-label={_("Change the number of backup jobs at once")}>
                {_("Change")}
            </Button>
            {editing && <QueueDialog settings={settings} onClose={() => setEditing(false)}
                                     onSaved={saved => { setSettings(saved); setEditing(false) }} />}
        </p>
    );
}
