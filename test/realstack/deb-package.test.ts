// SPDX-License-Identifier: GPL-3.0-or-later
// The installed Debian package (make deb; apt-get install ./cockpit-virtnbdbackup_*.deb): its files, its
// CLIs (a real full backup and restore, compared with qemu-img compare), the page's manifest and metainfo,
// the man pages, that the page (in cockpit-ws and Chromium) finds and runs the packaged helper, and what
// purge removes. Skipped when the package is not installed (VNBT_REQUIRE_DEB=1, set by .ci/run, makes that
// a failure instead).
// Runs alone: it checks the package installed on the host.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { ensureLibvirtd } from "../lib/libvirtd.ts";
import { TestVm, compareImages } from "../lib/vm.ts";
import { run, runOk } from "../lib/exec.ts";
import { helperArgv } from "../../src/helper-locate.ts";
import { startCockpit } from "../lib/cockpit.ts";
import { launchBrowser } from "../lib/browser.ts";

const PACKAGE = "cockpit-virtnbdbackup";
const PLUGIN = "/usr/share/cockpit/virtnbdbackup";
const LIB = "/usr/lib/cockpit-virtnbdbackup";
const BACKUP = "/usr/bin/cockpit-virtnbdbackup";
const RESTORE = "/usr/bin/cockpit-virtnbdrestore";
const MAP = "/usr/bin/cockpit-virtnbdmap";
const PRUNE = "/usr/bin/cockpit-virtnbdprune";
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const version = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version as string;

function dpkgField(pkg: string, field: string): string | undefined {
    const r = spawnSync("dpkg-query", ["-W", `-f=\${${field}}`, pkg], { encoding: "utf8" });
    return r.status === 0 ? r.stdout : undefined;
}

const installed = dpkgField(PACKAGE, "Status") === "install ok installed";
if (!installed && process.env.VNBT_REQUIRE_DEB === "1")
    throw new Error(`${PACKAGE} is not installed, and VNBT_REQUIRE_DEB=1: build it (make deb) and apt-get install ./${PACKAGE}_*.deb`);
const skip = installed ? false : `${PACKAGE} is not installed (make deb && apt-get install ./${PACKAGE}_*.deb)`;

describe("the installed Debian package", { skip }, () => {
    let stopLibvirtd: () => Promise<void>;
    let work: string;
    const vms: TestVm[] = [];

    before(async () => {
        stopLibvirtd = await ensureLibvirtd();
        work = fs.mkdtempSync(path.join(os.tmpdir(), "vnbt-deb-"));
    });

    after(async () => {
        for (const vm of vms)
            await vm.cleanup();
        fs.rmSync(work, { recursive: true, force: true });
        await stopLibvirtd?.();
    });

    test("puts the page, the helper with its addons, the CLIs, man pages and metainfo in place, no source maps", () => {
        const files = (dpkgField(PACKAGE, "db-fsys:Files") ?? spawnSync("dpkg", ["-L", PACKAGE], { encoding: "utf8" }).stdout)
            .split("\n").map(s => s.trim()).filter(Boolean);
        for (const f of [`${PLUGIN}/manifest.json`, `${PLUGIN}/index.html`, `${PLUGIN}/index.js.gz`, `${PLUGIN}/index.css.gz`,
                         `${LIB}/helper.js`, `${LIB}/virtnbdbackup.js`, `${LIB}/virtnbdrestore.js`,
                         `${LIB}/node_modules/libnbd-node/build/Release/nbd_binding.node`,
                         `${LIB}/node_modules/codec-node/build/Release/codec_binding.node`,
                         `${LIB}/node_modules/fileio-node/build/Release/fileio_binding.node`,
                         `${LIB}/virtnbdmap.js`, `${LIB}/node_modules/nbdkit-virtnbdbackup-plugin/build/nbdkit-virtnbdbackup-plugin.so`,
                         `${LIB}/virtnbdprune.js`, BACKUP, RESTORE, MAP, PRUNE,
                         "/usr/share/man/man1/cockpit-virtnbdbackup.1.gz", "/usr/share/man/man1/cockpit-virtnbdrestore.1.gz",
                         "/usr/share/man/man1/cockpit-virtnbdmap.1.gz", "/usr/share/man/man1/cockpit-virtnbdprune.1.gz",
                         "/usr/share/metainfo/org.cockpit_project.virtnbdbackup.metainfo.xml",
                         "/usr/share/doc/cockpit-virtnbdbackup/copyright"]) {
            assert.ok(files.includes(f), `the package has no ${f}`);
            assert.ok(fs.existsSync(f), `${f} is missing on disk`);
        }
        assert.deepEqual(files.filter(f => f.endsWith(".map")), [], "source maps in the package");
        assert.equal(fs.existsSync(`${PLUGIN}/helper`), false, "the helper belongs under /usr/lib, not in the page's folder");
        for (const f of [`${LIB}/helper.js`, BACKUP, RESTORE, MAP, PRUNE])
            assert.ok((fs.statSync(f).mode & 0o111) === 0o111, `${f} is not executable`);
        assert.equal(fs.realpathSync(BACKUP), `${LIB}/virtnbdbackup.js`);
        assert.equal(fs.realpathSync(RESTORE), `${LIB}/virtnbdrestore.js`);
        assert.equal(fs.realpathSync(PRUNE), `${LIB}/virtnbdprune.js`);
    });

    test("depends on what the helper loads and runs, and leaves /usr/bin/virtnbdbackup to Debian's package", () => {
        assert.equal(dpkgField(PACKAGE, "Version"), version);
        const depends = (dpkgField(PACKAGE, "Depends") ?? "").split(",").map(d => d.trim().split(" ")[0]);
        for (const dep of ["nodejs", "libnbd0", "liblz4-1", "libdeflate0", "libxxhash0", "libvirt-clients", "qemu-utils", "libnbd-bin", "nbdkit", "cockpit-bridge"])
            assert.ok(depends.includes(dep), `Depends has no ${dep}: ${depends.join(", ")}`);
        for (const name of ["virtnbdbackup", "virtnbdrestore"]) {
            const owner = spawnSync("dpkg", ["-S", `/usr/bin/${name}`], { encoding: "utf8" });
            if (owner.status === 0)
                assert.match(owner.stdout, /^virtnbdbackup: /, `/usr/bin/${name} is not the Python tool's`);
        }
    });

    test("the CLIs answer --version and --help", async () => {
        for (const cli of [BACKUP, RESTORE]) {
            const v = await runOk(cli, ["--version"]);
            assert.equal(v.stdout.trim(), version, cli);
            const h = await runOk(cli, ["--help"]);
            assert.match(h.stdout, /^Usage: virtnbd(backup|restore) \[options\]/, cli);
            assert.match(h.stdout, /--output <dir>/, cli);
        }
        for (const cli of [MAP, PRUNE])
            assert.equal((await runOk(cli, ["--version"])).stdout.trim(), version, cli);
        assert.match((await runOk(PRUNE, ["--help"])).stdout, /^Usage: virtnbdprune \[options\][^]*--keep-last <n>/);
        const bad = await run(BACKUP, ["--level", "nonsense", "-d", "x", "-o", path.join(work, "never")]);
        assert.notEqual(bad.code, 0);
        assert.equal(fs.existsSync(path.join(work, "never")), false);
    });

    test("a full backup with the installed CLI restores exactly with the installed restore", async () => {
        const vm = await TestVm.create({
            disks: [{ size: "64M", writes: [{ offset: "1M", length: "3M", random: true, seed: 61 }, { offset: "40M", length: "1M", pattern: 0x5d }] }],
        });
        vms.push(vm);
        const dir = path.join(work, "backup");
        await runOk(BACKUP, ["--noprogress", "-d", vm.name, "-l", "full", "-o", dir], { timeoutMs: 300_000 });
        assert.ok(fs.readdirSync(dir).includes("vda.full.data"), fs.readdirSync(dir).join(" "));
        const out = path.join(work, "restore");
        await runOk(RESTORE, ["--noprogress", "-i", dir, "-o", out], { timeoutMs: 300_000 });
        const result = await compareImages(path.join(out, path.basename(vm.disks[0].path)), vm.expectedPath(0));
        assert.ok(result.identical, result.output);
        // The installed mapper (nbdkit with the packaged plugin) serves the same disk.
        const map = spawn(MAP, ["--json", "-i", dir], { stdio: ["ignore", "pipe", "inherit"] });
        try {
            const [line] = await once(map.stdout, "data") as [Buffer];
            const uri = (JSON.parse(line.toString()) as { disks: { uri: string }[] }).disks[0].uri;
            const mapped = await compareImages(uri, vm.expectedPath(0), { format: "raw" });
            assert.ok(mapped.identical, mapped.output);
        } finally {
            map.kill("SIGTERM");
            await once(map, "close");
        }
        // The installed virtnbdprune on that folder: one chain of one point, nothing to remove or merge, nothing changed.
        const files = fs.readdirSync(dir).sort();
        const plan = JSON.parse((await runOk(PRUNE, ["--json", "-o", dir, "--keep-last", "1", "--keep-points", "1", "--yes"])).stdout) as
            { event: string; dryRun: boolean; chains: { removed: unknown[] }; points: unknown[] };
        assert.deepEqual([plan.event, plan.dryRun, plan.chains.removed, plan.points], ["result", false, [], []]);
        assert.deepEqual(fs.readdirSync(dir).sort(), files);
    });

    test("the page finds the packaged helper under /usr/lib from the data dir /usr/share, and it answers", () => {
        // Only /usr/share: a `make install` in /usr/local would rightly be found first otherwise.
        const home = fs.mkdtempSync(path.join(work, "home-"));
        const [cmd, ...args] = helperArgv(["list-vms"]);
        const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_DATA_DIRS: "/usr/share", LC_ALL: "C" };
        // Which file it runs: the same program with its last line printing the file instead of loading it.
        assert.ok(args[1].endsWith("require(found);\n"), "LOCATE no longer ends by loading the found file");
        const found = spawnSync(cmd, ["-e", args[1].replace(/require\(found\);\n$/, "console.log(found);\n"), "--"], { encoding: "utf8", env });
        assert.equal(found.stdout.trim(), `${LIB}/helper.js`, found.stderr);
        const r = spawnSync(cmd, args, { encoding: "utf8", env });
        assert.equal(r.status, 0, r.stderr);
        assert.ok(Array.isArray(JSON.parse(r.stdout).vms), r.stdout.slice(0, 200));
    });

    test("cockpit-ws serves the packaged page, which lists a VM through the packaged helper", async () => {
        // The page's folder has no helper/: the page can only work with /usr/lib/cockpit-virtnbdbackup/helper.js.
        const vm = await TestVm.create({ disks: [{ size: "32M" }] });
        vms.push(vm);
        const cockpit = await startCockpit({ pkgDir: PLUGIN });
        const browser = await launchBrowser({ locale: "en-US" });
        try {
            await browser.page.goto(cockpit.pageUrl());
            await browser.page.locator(`#vm-list tr[data-vm="${vm.name}"], #state-error, #state-not-admin`).first().waitFor({ timeout: 60_000 });
            const error = browser.page.locator("#state-error, #state-not-admin");
            assert.equal(await error.count(), 0, await error.count() ? await error.first().innerText() : "");
            const row = browser.page.locator(`#vm-list tr[data-vm="${vm.name}"]`);
            assert.equal((await row.locator(".vm-name").innerText()).trim(), vm.name);
        } finally {
            await browser.close();
            await cockpit.stop();
        }
    });

    test("the page's manifest shows the menu entry only where virsh is, and Cockpit lists the page", () => {
        const manifest = JSON.parse(fs.readFileSync(`${PLUGIN}/manifest.json`, "utf8"));
        assert.deepEqual(manifest.conditions, [{ "path-exists": "/usr/bin/virsh" }]);
        assert.equal(manifest.requires.cockpit, "287");
        assert.equal(manifest.tools.index.path, "index.html");
        const home = fs.mkdtempSync(path.join(work, "home-"));
        const listed = spawnSync("cockpit-bridge", ["--packages"], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: home } });
        assert.match(listed.stdout, /^virtnbdbackup\s+Virtual machine backups\s+\/usr\/share\/cockpit\/virtnbdbackup$/m, listed.stdout + listed.stderr);
    });

    test("the metainfo names the page for Cockpit's Applications page", () => {
        const file = "/usr/share/metainfo/org.cockpit_project.virtnbdbackup.metainfo.xml";
        const xml = fs.readFileSync(file, "utf8");
        assert.match(xml, /<component type="addon">/);
        assert.match(xml, /<id>org\.cockpit_project\.virtnbdbackup<\/id>/);
        assert.match(xml, /<extends>org\.cockpit_project\.cockpit<\/extends>/);
        assert.match(xml, /<launchable type="cockpit-manifest">virtnbdbackup<\/launchable>/);
        if (fs.existsSync("/usr/bin/appstreamcli")) {
            const v = spawnSync("appstreamcli", ["validate", "--no-net", file], { encoding: "utf8" });
            assert.equal(v.status, 0, v.stdout + v.stderr);
        }
    });

    test("the man pages are named for the installed CLIs and document their options", () => {
        for (const [name, option] of [["cockpit-virtnbdbackup", "domain"], ["cockpit-virtnbdrestore", "input"], ["cockpit-virtnbdprune", "keep-last"]]) {
            const page = zlib.gunzipSync(fs.readFileSync(`/usr/share/man/man1/${name}.1.gz`)).toString("utf8");
            assert.match(page, new RegExp(`^\\.TH ${name.toUpperCase()} "1" .*"${name} ${version.replace(/\./g, "\\.")}"`, "m"));
            assert.match(page, new RegExp(`^\\.SH NAME\\n${name} \\\\- `, "m"));
            assert.match(page, new RegExp(`^\\.B ${name}$`, "m"), "SYNOPSIS names the installed command");
            // roff escapes every hyphen: --keep-last is \-\-keep\-last.
            assert.ok(page.includes(`\\-\\-${option.replace(/-/g, "\\-")}`), `${name}: no --${option}`);
        }
        if (fs.existsSync("/usr/bin/man")) {
            const r = spawnSync("man", ["-w", "cockpit-virtnbdbackup"], { encoding: "utf8" });
            assert.equal(r.stdout.trim(), "/usr/share/man/man1/cockpit-virtnbdbackup.1.gz", r.stderr);
        }
    });

    test("postrm remove takes the schedules the helper wrote, purge also its settings and state, and nothing else", () => {
        const postrm = `/var/lib/dpkg/info/${PACKAGE}.postrm`;
        const fake = fs.mkdtempSync(path.join(work, "root-"));
        const schedules = ["etc/cron.d/cockpit-virtnbdbackup", "etc/systemd/system/cockpit-virtnbdbackup-x.timer",
                           "etc/systemd/system/cockpit-virtnbdbackup-x.service"];
        const settings = ["etc/cockpit-virtnbdbackup/vms/x.json", "var/lib/cockpit-virtnbdbackup/checkpoints/y.json"];
        const ours = [...schedules, ...settings];
        const others = ["etc/cron.d/other", "etc/systemd/system/other.timer", "var/lib/other/z"];
        for (const f of [...ours, ...others]) {
            fs.mkdirSync(path.dirname(path.join(fake, f)), { recursive: true });
            fs.writeFileSync(path.join(fake, f), "x");
        }
        fs.mkdirSync(path.join(fake, "etc/systemd/system/timers.target.wants"));
        fs.symlinkSync("../cockpit-virtnbdbackup-x.timer", path.join(fake, "etc/systemd/system/timers.target.wants/cockpit-virtnbdbackup-x.timer"));
        const env = { PATH: process.env.PATH, DPKG_ROOT: fake };

        let r = spawnSync("sh", [postrm, "remove"], { encoding: "utf8", env });
        assert.equal(r.status, 0, r.stderr);
        for (const f of schedules)
            assert.equal(fs.existsSync(path.join(fake, f)), false, `remove left ${f}: it would start the removed helper`);
        assert.equal(fs.existsSync(path.join(fake, "etc/systemd/system/timers.target.wants/cockpit-virtnbdbackup-x.timer")), false);
        for (const f of [...settings, ...others])
            assert.ok(fs.existsSync(path.join(fake, f)), `remove took ${f}`);

        r = spawnSync("sh", [postrm, "purge"], { encoding: "utf8", env });
        assert.equal(r.status, 0, r.stderr);
        for (const f of ours)
            assert.equal(fs.existsSync(path.join(fake, f)), false, `purge left ${f}`);
        for (const dir of ["etc/cockpit-virtnbdbackup", "var/lib/cockpit-virtnbdbackup"])
            assert.equal(fs.existsSync(path.join(fake, dir)), false, `purge left ${dir}`);
        assert.equal(fs.existsSync(path.join(fake, "etc/systemd/system/timers.target.wants/cockpit-virtnbdbackup-x.timer")), false);
        for (const f of others)
            assert.ok(fs.existsSync(path.join(fake, f)), `purge took ${f}`);
    });
});
