// SPDX-License-Identifier: GPL-3.0-or-later
// Page locations: [] is the VM list, [name] a VM's page. Links are hash links that cockpit.location
// understands both standalone and inside the shell's frame.
export function vmHref(name: string): string {
    return "#/" + encodeURIComponent(name);
}

export const LIST_HREF = "#/";
