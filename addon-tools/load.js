// SPDX-License-Identifier: GPL-3.0-or-later
"use strict";
// Loads a binding package's compiled module, build/Release/<file>, or explains how to build it.

const path = require("node:path");

/**
 * @param {string} packageDir the binding package's directory (its __dirname)
 * @param {string} file the .node file node-gyp makes, e.g. "nbd_binding.node"
 * @param {{ name: string, needs: string, code: string }} about for the error: package name, build needs, error code
 */
function loadAddon(packageDir, file, about) {
    try {
        return require(path.join(packageDir, "build/Release", file));
    } catch (cause) {
        if (!cause || cause.code !== "MODULE_NOT_FOUND") throw cause;
        const error = new Error(`${about.name}: the native binding is not built (run \`npm run build -w ${about.name}\`; ` +
            `it needs ${about.needs})`);
        error.code = about.code;
        error.cause = cause;
        throw error;
    }
}

exports.loadAddon = loadAddon;
