// SPDX-License-Identifier: GPL-3.0-or-later
// One version for every entry point; esbuild inlines it from package.json.
import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
