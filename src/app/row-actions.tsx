// SPDX-License-Identifier: GPL-3.0-or-later
// A table row's kebab menu of actions, with a stable id and an accessible name that names the row.
import { MenuToggle } from "@patternfly/react-core/dist/esm/components/MenuToggle/index.js";
import { ActionsColumn, type IAction } from "@patternfly/react-table/dist/esm/components/Table/index.js";
import EllipsisVIcon from "@patternfly/react-icons/dist/esm/icons/ellipsis-v-icon";
import cockpit from "../lib/cockpit";

const _ = cockpit.gettext;

export function RowActions({ id, row, items }: { id: string; row: string; items: IAction[] }) {
    return (
        // In the page's <main>, not appended to <body>: an open menu stays inside a landmark (and, unlike an inline
        // one, is not narrowed to the table cell).
        <ActionsColumn items={items} popperProps={{ position: "right", appendTo: () => document.querySelector("main") ?? document.body }}
                       actionsToggle={({ onToggle, isOpen, isDisabled, toggleRef }) => (
                           <MenuToggle ref={toggleRef} id={id} variant="plain" onClick={onToggle} isExpanded={isOpen} isDisabled={isDisabled}
                                       icon={<EllipsisVIcon />} aria-label={cockpit.format(_("Actions for $0"), row)} />
                       )} />
    );
}
