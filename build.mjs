#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
// Builds the Cockpit package (dist/) and the privileged helper (dist/helper/).
// dist/ is self-contained: it is what `make install` copies and what tests serve through cockpit-ws.
import * as esbuild from "esbuild";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { createRequire } from "node:module";
import { buildTranslations } from "./tools/po.mjs";

const require = createRequire(import.meta.url);
const root = path.dirname(new URL(import.meta.url).pathname);
const dist = path.join(root, "dist");
const args = new Set(process.argv.slice(2));
const all = !args.has("--ui") && !args.has("--helper");
// Production by default (minified, React's production build, gzipped, no source maps: what gets installed);
// --dev keeps readable code with linked maps for debugging in the browser.
const dev = args.has("--dev");

// Native modules cannot be bundled; they are copied into dist/helper/node_modules so that
// Node's own resolution finds them beside the bundle, wherever dist/ is installed.
const NATIVE = ["libnbd-node", "codec-node", "fileio-node", "nbdkit-virtnbdbackup-plugin"];
// What the native packages load besides their own .node file and system libraries.
const NATIVE_RUNTIME = ["addon-tools"];

async function buildUi() {
    fs.mkdirSync(dist, { recursive: true });
    await esbuild.build({
        entryPoints: { index: path.join(root, "src/index.tsx") },
        bundle: true,
        outdir: dist,
        format: "iife",
        target: ["es2020"],
        minify: !dev,
        sourcemap: dev ? "linked" : false,
        define: { "process.env.NODE_ENV": JSON.stringify(dev ? "development" : "production") },
        loader: { ".woff": "file", ".woff2": "file", ".svg": "dataurl", ".png": "file", ".jpg": "file" },
        assetNames: "fonts/[name]",
        // Fonts are copied beside index.css (file loader); only Cockpit's own files stay external.
        external: ["../base1/*"],
        jsx: "automatic",
        logLevel: "warning",
    });
    fs.copyFileSync(path.join(root, "src/index.html"), path.join(dist, "index.html"));
    fs.copyFileSync(path.join(root, "manifest.json"), path.join(dist, "manifest.json"));
    buildTranslations(path.join(root, "po"), dist);
    for (const name of ["index.js", "index.css", "index.js.map", "index.css.map"]) {
        const file = path.join(dist, name);
        fs.rmSync(`${file}.gz`, { force: true });
        if (!dev && fs.existsSync(file))
            compress(file);
    }
}

/**
 * Like Cockpit's own packages: the big files only as name.gz, which the bridge serves to the browser
 * as they are (Content-Encoding: gzip).
 */
function compress(file) {
    if (file.endsWith(".map")) {
        fs.rmSync(file);
        return;
    }
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync(fs.readFileSync(file), { level: 9 }));
    fs.rmSync(file);
}

function copyNative() {
    const target = path.join(dist, "helper/node_modules");
    fs.rmSync(target, { recursive: true, force: true });
    for (const name of [...NATIVE, ...NATIVE_RUNTIME])
        copyPackage(packageDir(name), path.join(target, name));
}

// The folder of an installed package (its package.json may not be exported).
function packageDir(name) {
    let dir = path.dirname(require.resolve(name));
    for (; dir !== path.dirname(dir); dir = path.dirname(dir)) {
        const manifest = path.join(dir, "package.json");
        if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, "utf8")).name === name)
            return dir;
    }
    throw new Error(`cannot find the folder of package ${name}`);
}

function copyPackage(from, to) {
    fs.cpSync(from, to, {
        recursive: true,
        dereference: true,
        filter: src => !/[/\\](node_modules|test|bench|src|\.deps|obj\.target)([/\\]|$)/.test(src.slice(from.length)),
    });
}

async function buildHelper() {
    const outdir = path.join(dist, "helper");
    fs.mkdirSync(outdir, { recursive: true });
    const entries = {
        virtnbdbackup: "helper/cli/virtnbdbackup.ts",
        virtnbdrestore: "helper/cli/virtnbdrestore.ts",
        virtnbdmap: "helper/cli/virtnbdmap.ts",
        virtnbdprune: "helper/cli/virtnbdprune.ts",
        helper: "helper/cli/helper.ts",
    };
    await esbuild.build({
        entryPoints: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, path.join(root, v)])),
        bundle: true,
        platform: "node",
        target: "node18",
        format: "cjs",
        outdir,
        external: NATIVE,
        banner: { js: "#!/usr/bin/env node" },
        // Every backup pays for loading the bundle: an inline map (~1 MB) costs ~10 ms of start-up, so it
        // goes beside the bundle (*.js.map) and the code is minified; names are kept for stack traces.
        minify: true,
        keepNames: true,
        sourcemap: "linked",
        logLevel: "warning",
    });
    // The first line of each CLI (the installed commands are these files). It starts node without
    // NODE_EXTRA_CA_CERTS: nothing here speaks TLS, and with the variable set (for other programs, e.g. to
    // Debian's whole bundle) node parses every certificate before any code runs, 70-90 ms of each start
    // (bench/results/experiments.md §15). A CLI's node options go there too (the job runner gives them through
    // NODE_OPTIONS): a restore allocates per chunk; with 4 MiB young-generation semi-spaces instead of V8's 16
    // its heap stays ~20 MB smaller, no slower (§14).
    const nodeOptions = JSON.parse(fs.readFileSync(path.join(root, "helper/cli/node-options.json"), "utf8"));
    for (const name of Object.keys(entries)) {
        const file = path.join(outdir, `${name}.js`);
        const code = fs.readFileSync(file, "utf8");
        const options = nodeOptions[name] ? ` ${nodeOptions[name]}` : "";
        // Same line count: the source map stays right.
        fs.writeFileSync(file, code.replace(/^#!\/usr\/bin\/env node\n/, `#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node${options}\n`));
        fs.chmodSync(file, 0o755);
    }
    copyNative();
}

if (all || args.has("--ui"))
    await buildUi();
if (all || args.has("--helper"))
    await buildHelper();
