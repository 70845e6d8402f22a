// SPDX-License-Identifier: GPL-3.0-or-later
// A VM's libvirt state as a coloured label with a translated text.
import { Label } from "@patternfly/react-core/dist/esm/components/Label/index.js";
import cockpit from "../lib/cockpit";

const _ = cockpit.gettext;

type LabelColor = "green" | "orange" | "red" | "grey" | "blue";

/** Text and colour for a state as `virsh domstate` names it; unknown states are shown as they are. */
function describe(state: string): { text: string; color: LabelColor } {
    switch (state) {
    case "running":
        return { text: _("Running"), color: "green" };
    case "idle":
        return { text: _("Idle"), color: "green" };
    case "paused":
        return { text: _("Paused"), color: "orange" };
    case "in shutdown":
        return { text: _("Shutting down"), color: "orange" };
    case "shut off":
        return { text: _("Shut off"), color: "grey" };
    case "crashed":
        return { text: _("Crashed"), color: "red" };
    case "pmsuspended":
        return { text: _("Suspended"), color: "blue" };
    case "no state":
        return { text: _("Unknown state"), color: "grey" };
    default:
        return { text: state, color: "grey" };
    }
}

export function VmStateLabel({ state }: { state: string }) {
    const { text, color } = describe(state);
    return <Label className="vm-state" data-state={state} color={color} isCompact>{text}</Label>;
}
