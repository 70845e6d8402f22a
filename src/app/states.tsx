// SPDX-License-Identifier: GPL-3.0-or-later
// Full-page states (loading, empty, errors) as PatternFly empty states, each with a stable id.
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { EmptyState, EmptyStateActions, EmptyStateBody, EmptyStateFooter } from "@patternfly/react-core/dist/esm/components/EmptyState/index.js";
import { Spinner } from "@patternfly/react-core/dist/esm/components/Spinner/index.js";
import ExclamationCircleIcon from "@patternfly/react-icons/dist/esm/icons/exclamation-circle-icon";
import LockIcon from "@patternfly/react-icons/dist/esm/icons/lock-icon";
import VirtualMachineIcon from "@patternfly/react-icons/dist/esm/icons/virtual-machine-icon";
import cockpit from "../lib/cockpit";
import type { HelperError } from "../helper-client";

const _ = cockpit.gettext;

/** h1 when the state is all the page shows, h2 inside a card that has its own title. */
type Level = "h1" | "h2";

export function LoadingState({ title, headingLevel = "h2" }: { title: string; headingLevel?: Level }) {
    return (
        <EmptyState id="state-loading" titleText={title} headingLevel={headingLevel} icon={Spinner} />
    );
}

export function NoVmsState() {
    return (
        <EmptyState id="state-no-vms" titleText={_("No virtual machines")} headingLevel="h2" icon={VirtualMachineIcon}>
            <EmptyStateBody>{_("libvirt has no virtual machines on this host.")}</EmptyStateBody>
        </EmptyState>
    );
}

export function NotAdminState() {
    return (
        <EmptyState id="state-not-admin" titleText={_("Administrative access required")} headingLevel="h1" icon={LockIcon}>
            <EmptyStateBody>
                {_("Backing up virtual machines needs administrative access. Turn on administrative access in the top bar and try again.")}
            </EmptyStateBody>
        </EmptyState>
    );
}

function errorTitle(error: HelperError): string {
    switch (error.kind) {
    case "node-missing":
        return _("Node.js is not installed");
    case "unexpected":
        return _("Unexpected answer from the helper");
    default:
        return _("Cannot list virtual machines");
    }
}

function errorBody(error: HelperError): string {
    if (error.kind === "node-missing")
        return _("The backup helper needs Node.js 18 or newer (package \"nodejs\") on this host.");
    return error.detail;
}

export function HelperErrorState({ error, onRetry, headingLevel = "h2" }: { error: HelperError; onRetry: () => void; headingLevel?: Level }) {
    return (
        <EmptyState id="state-error" data-error-kind={error.kind} titleText={errorTitle(error)} headingLevel={headingLevel}
                    icon={ExclamationCircleIcon} status="danger">
            <EmptyStateBody className="vnb-error-detail">{errorBody(error)}</EmptyStateBody>
            <EmptyStateFooter>
                <EmptyStateActions>
                    <Button id="retry" variant="primary" onClick={onRetry}>{_("Retry")}</Button>
                </EmptyStateActions>
            </EmptyStateFooter>
        </EmptyState>
    );
}
