// SPDX-License-Identifier: GPL-3.0-or-later
// Top of the page: checks admin access, lists the VMs once, and picks the page for the location.
import { Page, PageSection } from "@patternfly/react-core/dist/esm/components/Page/index.js";
import { useAdminAllowed, useLocationPath, useVmList } from "./hooks";
import { LoadingState, NotAdminState } from "./states";
import { VmDetailPage } from "./VmDetailPage";
import { VmListPage } from "./VmListPage";
import cockpit from "../lib/cockpit";

const _ = cockpit.gettext;

export function App() {
    const admin = useAdminAllowed();
    const path = useLocationPath();
    const { state, reload } = useVmList(admin === true);

    let content;
    if (admin === null)
        content = <PageSection><LoadingState title={_("Checking access")} headingLevel="h1" /></PageSection>;
    else if (!admin)
        content = <PageSection><NotAdminState /></PageSection>;
    else if (path.length > 0)
        content = <VmDetailPage name={path[0]} state={state} reload={reload} />;
    else
        content = <VmListPage state={state} reload={reload} />;

    return <Page id="virtnbdbackup-page" className="vnb-page">{content}</Page>;
}
