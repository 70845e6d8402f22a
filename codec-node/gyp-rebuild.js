#!/usr/bin/env node
"use strict";
// `npm run build`: node-gyp rebuild without network access. Left alone, node-gyp fetches Node's
// headers; Debian's nodejs (and the official tarballs) install them at PREFIX/include/node beside
// the binary, so we hand node-gyp that prefix when it is there.
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
    console.error(`codec-node: node-gyp did not start (${result.error.message}); build through npm ` +
        "(`npm run build -w codec-node`), which puts its own node-gyp on PATH");
    process.exit(1);
}
process.exit(result.status ?? 1);
