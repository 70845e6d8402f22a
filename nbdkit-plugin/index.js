// SPDX-License-Identifier: GPL-3.0-or-later
"use strict";
// Where the built plugin lies (nbdkit loads it by path), or an error saying how to build it.
const fs = require("node:fs");
const path = require("node:path");

const PLUGIN = path.join(__dirname, "build", "nbdkit-virtnbdbackup-plugin.so");

function pluginPath() {
    if (!fs.existsSync(PLUGIN)) {
        const error = new Error("nbdkit-virtnbdbackup-plugin: the plugin is not built (run `npm run build -w " +
            "nbdkit-virtnbdbackup-plugin`; it needs nbdkit-plugin-dev, liblz4-dev, pkg-config and a C compiler)");
        error.code = "ERR_NBDKIT_PLUGIN_NOT_BUILT";
        throw error;
    }
    return PLUGIN;
}

exports.pluginPath = pluginPath;
