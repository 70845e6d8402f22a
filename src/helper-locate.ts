// SPDX-License-Identifier: GPL-3.0-or-later
// How the UI starts the helper: `node -e LOCATE -- <command> ...`. Kept apart from cockpit.js so
// that tests can run the very same program under Node.

/**
 * Finds the helper the way Cockpit finds packages (XDG_DATA_HOME or ~/.local/share, then each
 * XDG_DATA_DIRS entry, default /usr/local/share:/usr/share) and runs it in this same Node process
 * with the remaining arguments. In each data dir D it looks first for the built tree's layout,
 * D/cockpit/virtnbdbackup/helper/helper.js (dist/ linked by `make devel-install`), then for the
 * installed layout, D/../lib/cockpit-virtnbdbackup/helper.js (`make install` and the Debian package put
 * the helper and its native addons under PREFIX/lib beside the plugin's PREFIX/share): the helper of the
 * plugin Cockpit serves is the one found first. Passed to `node -e`: a constant, never built from user
 * input. Exit code 127 with a message when the package has no helper.
 */
export const LOCATE = `
const fs = require("fs"), path = require("path"), os = require("os");
const first = process.env.XDG_DATA_HOME || path.join(process.env.HOME || os.homedir(), ".local/share");
const rest = (process.env.XDG_DATA_DIRS || "/usr/local/share:/usr/share").split(":");
const dirs = [first, ...rest].filter(d => path.isAbsolute(d));
const candidates = dirs.flatMap(d => [
    path.join(d, "cockpit/virtnbdbackup/helper/helper.js"),
    path.join(d, "../lib/cockpit-virtnbdbackup/helper.js"),
]);
const found = candidates.find(f => fs.existsSync(f));
if (!found) {
    process.stderr.write("The virtnbdbackup helper is not installed: none of " + candidates.join(", ") + "\\n");
    process.exit(127);
}
process.argv = [process.argv[0], found, ...process.argv.slice(1)];
require(found);
`;

/** The argv that runs `helper.js ...args` through LOCATE. */
export function helperArgv(args: string[]): string[] {
    return ["node", "-e", LOCATE, "--", ...args];
}
