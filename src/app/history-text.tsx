// SPDX-License-Identifier: GPL-3.0-or-later
// Names and labels of job history records, shared by the History section and the VM list.
import { Label } from "@patternfly/react-core/dist/esm/components/Label/index.js";
import cockpit from "../lib/cockpit";
import type { HistoryRecord, HistoryResult } from "../backup-types";

const _ = cockpit.gettext;

export function jobTypeName(type: HistoryRecord["type"]): string {
    switch (type) {
    case "backup": return _("Backup");
    case "restore": return _("Restore");
    case "verify": return _("Verify");
    case "prune": return _("Pruning");
    }
}

export function resultName(result: HistoryResult): string {
    switch (result) {
    case "ok": return _("Succeeded");
    case "warnings": return _("Succeeded with warnings");
    case "failed": return _("Failed");
    case "cancelled": return _("Cancelled");
    case "running": return _("Running");
    }
}

const STATUS: Record<HistoryResult, "success" | "warning" | "danger" | "info" | undefined> = {
    ok: "success", warnings: "warning", failed: "danger", cancelled: undefined, running: "info",
};

/** The result as a label: icon and text, never colour alone. */
export function ResultLabel({ result, text, className }: { result: HistoryResult; text?: string; className?: string }) {
    const status = STATUS[result];
    return (
        <Label isCompact className={className} data-result={result} {...(status ? { status } : { variant: "outline" })}>
            {text ?? resultName(result)}
        </Label>
    );
}
