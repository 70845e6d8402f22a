// SPDX-License-Identifier: GPL-3.0-or-later
// A failed helper call inside the Backups tab: an inline alert with the helper's words and Retry.
import { Alert, AlertActionLink } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import cockpit from "../lib/cockpit";
import type { HelperError } from "../helper-client";

const _ = cockpit.gettext;

export function BackupError({ id, title, error, onRetry }: { id: string; title: string; error: HelperError; onRetry: () => void }) {
    const detail = error.kind === "node-missing"
        ? _("The backup helper needs Node.js 18 or newer (package \"nodejs\") on this host.")
        : error.detail;
    return (
        <Alert component="h2" id={id} data-error-kind={error.kind} variant="danger" isInline title={title}
               actionLinks={<AlertActionLink onClick={onRetry}>{_("Retry")}</AlertActionLink>}>
            <span className="vnb-error-detail">{detail}</span>
        </Alert>
    );
}
