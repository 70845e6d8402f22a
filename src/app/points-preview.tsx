// SPDX-License-Identifier: GPL-3.0-or-later
// Under "Keep restore points of each chain" in the settings dialog: which points the typed rules would merge
// away from the stored backup folder now (the helper's dry run, as the schedule applies them: merges of files in
// use are left out and said so), before they are saved.
import { useEffect, useState } from "react";
import { HelperTextItem } from "@patternfly/react-core/dist/esm/components/HelperText/index.js";
import cockpit from "../lib/cockpit";
import { previewPointRules } from "../helper-client";
import type { VmSettings } from "../backup-types";
import { bytes } from "./backup-text";
import { InUseNote } from "./prune-preview";

const _ = cockpit.gettext;

type Rules = Pick<VmSettings, "keepPoints" | "keepDaily" | "keepWeekly" | "keepMonthly">;

export function PointsPreview({ domain, rules }: { domain: string; rules: Rules }) {
    const [plan, setPlan] = useState<{ dropped: string[]; freed: number; inUse: string[] } | null>(null);
    const key = JSON.stringify(rules);
    useEffect(() => {
        let current = true;
        setPlan(null);
        // Typing "14" asks once, not for "1" and then "14".
        const timer = setTimeout(() => {
            previewPointRules(domain, rules).then(p => current && setPlan(p), () => {});
        }, 300);
        return () => { current = false; clearTimeout(timer) };
    }, [domain, key]);  // eslint-disable-line react-hooks/exhaustive-deps
    if (plan === null)
        return null;
    const inUse = <InUseNote id="backup-settings-points-in-use" reasons={plan.inUse} />;
    if (plan.dropped.length === 0)
        return <><HelperTextItem id="backup-settings-points-preview" data-drop="0">{_("Merges away no restore point now.")}</HelperTextItem>{inUse}</>;
    return (
        <>
            <HelperTextItem id="backup-settings-points-preview" variant="warning" data-drop={String(plan.dropped.length)}>
                {cockpit.format(_("The next pruning merges away $0, freeing about $1."), plan.dropped.join(", "), bytes(Math.max(0, plan.freed)))}
            </HelperTextItem>
            {inUse}
        </>
    );
}
