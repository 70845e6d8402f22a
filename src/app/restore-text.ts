// SPDX-License-Identifier: GPL-3.0-or-later
// Translated texts of the restore dialogs' field errors (restore, start from backup, move, restore to host).
import cockpit from "../lib/cockpit";
import type { NameError, TargetError } from "./restore-form";
import type { InstantNameError } from "./instant-form";

const _ = cockpit.gettext;

export function targetErrorText(error: TargetError): string {
    switch (error.code) {
    case "empty": return _("Enter a folder.");
    case "relative": return _("Enter an absolute path, starting with /.");
    case "control-characters": return _("The path may not contain line breaks or other control characters.");
    case "dot-segments": return _("The path may not contain . or .. parts.");
    case "too-long": return _("The path is too long.");
    case "name-too-long": return _("A folder name in the path is longer than 255 bytes.");
    case "root": return _("Disks cannot be restored into /.");
    case "system-folder": return cockpit.format(_("Disks cannot be restored into $0 or inside it."), error.forbidden ?? "");
    case "shared-folder": return cockpit.format(_("$0 is shared by the whole system. Choose a folder of its own inside it."), error.forbidden ?? "");
    case "inside-backup-folder": return _("The folder may not be the backup folder or inside it.");
    case "holds-backup-folder": return _("The folder may not contain the backup folder.");
    case "not-empty": return _("The folder is not empty. Choose an empty or new folder.");
    case "not-a-folder": return _("This path exists and is not a folder.");
    case "resolves-elsewhere": return cockpit.format(_("The folder cannot be used: $0"), error.message ?? "");
    }
}

export function nameErrorText(error: NameError): string {
    switch (error.code) {
    case "empty": return _("Enter a name.");
    case "too-long": return _("The name is too long.");
    case "bad-characters": return _("The name may not contain /, control characters, or leading or trailing spaces.");
    case "leading-dash": return _("The name may not start with -.");
    case "exists": return _("A virtual machine with this name already exists.");
    }
}

/** The name of a VM started from a backup: also a file name, hence a narrower rule than a restored VM's. */
export function instantNameErrorText(error: InstantNameError): string {
    switch (error.code) {
    case "too-long": return _("The name may have at most 64 characters.");
    case "bad-characters": return _("Use letters, digits, dots, dashes and underscores only, starting with a letter or digit, and no two dots in a row.");
    default: return nameErrorText({ code: error.code });
    }
}
