// SPDX-License-Identifier: GPL-3.0-or-later
// Under "Keep the last N chains" in the settings dialog: what that policy would remove from the stored
// backup folder now (the helper's dry run, as the schedule applies it: a chain in use is left as it is and
// said so), before it is saved.
import { useEffect, useState } from "react";
import { HelperTextItem } from "@patternfly/react-core/dist/esm/components/HelperText/index.js";
import cockpit from "../lib/cockpit";
import { previewChainRule } from "../helper-client";
import type { PruneAnswer } from "../backup-types";
import { bytes } from "./backup-text";

const _ = cockpit.gettext;

/** What a preview leaves alone because something reads it (the helper's words: who reads what). */
export function InUseNote({ id, reasons }: { id: string; reasons: readonly string[] }) {
    if (reasons.length === 0)
        return null;
    return (
        <HelperTextItem id={id} variant="warning">
            {cockpit.format(_("Left as it is while in use: $0."), reasons.join("; "))}
        </HelperTextItem>
    );
}

export function PrunePreview({ domain, keep }: { domain: string; keep: number }) {
    const [plan, setPlan] = useState<PruneAnswer | null>(null);
    useEffect(() => {
        let current = true;
        setPlan(null);
        // Typing "12" asks once, not for "1" and then "12".
        const timer = setTimeout(() => {
            previewChainRule(domain, keep).then(p => current && setPlan(p), () => {});
        }, 300);
        return () => { current = false; clearTimeout(timer) };
    }, [domain, keep]);
    if (plan === null)
        return null;
    const inUse = <InUseNote id="backup-settings-prune-in-use" reasons={(plan.skipped ?? []).map(s => s.reason)} />;
    if (plan.removed.length === 0)
        return <><HelperTextItem id="backup-settings-prune-preview" data-remove="0">{_("Removes nothing now.")}</HelperTextItem>{inUse}</>;
    const names = plan.removed.map(c => c.name === "" ? _("the chain in the backup folder itself") : c.name).join(", ");
    return (
        <>
            <HelperTextItem id="backup-settings-prune-preview" variant="warning" data-remove={String(plan.removed.length)}>
                {cockpit.format(_("The next pruning removes $0, freeing $1."), names, bytes(plan.freed))}
            </HelperTextItem>
            {inUse}
        </>
    );
}
