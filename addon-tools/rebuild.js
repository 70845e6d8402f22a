#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
"use strict";
// `addon-rebuild`, the `npm run build` of each binding package: node-gyp rebuild in the package that
// runs it, offline. node-gyp downloads Node's headers unless told where they are; distribution packages
// of Node (and the official tarballs) ship them beside the binary, under PREFIX/include/node.
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const packageDir = process.cwd();
const name = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")).name;
const prefix = path.resolve(path.dirname(process.execPath), "..");
const args = ["rebuild"];
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, "include/node/common.gypi"))) {
    args.push(`--nodedir=${prefix}`);
}
const result = spawnSync("node-gyp", args, { cwd: packageDir, stdio: "inherit" });
if (result.error) {
    console.error(`${name}: cannot run node-gyp (${result.error.message}); build through npm ` +
        `(\`npm run build -w ${name}\`), which puts its own node-gyp on PATH`);
    process.exit(1);
}
process.exit(result.status ?? 1);
