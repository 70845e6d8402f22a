#!/usr/bin/env node
"use strict";
// `npm run build`: node-gyp rebuild, offline. node-gyp downloads Node's headers unless told where
// they are; distribution packages of Node (and official tarballs) ship them beside the binary,
// under PREFIX/include/node, so point node-gyp there when they exist.
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const prefix = path.resolve(path.dirname(process.execPath), "..");
const args = ["rebuild"];
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, "include/node/common.gypi"))) {
    args.push(`--nodedir=${prefix}`);
}
const result = spawnSync("node-gyp", args, { cwd: __dirname, stdio: "inherit" });
if (result.error) {
    console.error(`libnbd-node: cannot run node-gyp (${result.error.message}); run the build through npm, ` +
        "which puts its bundled node-gyp on PATH");
    process.exit(1);
}
process.exit(result.status ?? 1);
