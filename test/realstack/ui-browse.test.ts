// SPDX-License-Identifier: GPL-3.0-or-later
// End to end: "Browse files" of a restore point in the real cockpit-ws 287 and Chromium. A TCG VM whose
// disk holds an ext4 file system made in the test (mkfs.ext4 -d, known files, no partition table) is backed up with our CLI; the
// page maps the point, lists its file system, navigates into a folder and back by the breadcrumb, downloads a
// file (the exact bytes: sha256) and a folder as tar through Cockpit, restores a file and a folder to a host
// folder (the same bytes; refused inline when the name is taken), passes axe in light and dark, and after
// closing the view, reloading the page or killing the session's keeper nothing stays mounted or mapped.
// Runs alone: it checks that nothing of any browse session is left on the host.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { run, runOk } from "../lib/exec.ts";
import type { TestVm } from "../lib/vm.ts";
import type { RunningCockpit } from "../lib/cockpit.ts";
import { screenshot } from "../lib/browser.ts";
import { assertAccessible } from "../lib/axe.ts";
import { ourBackupOk } from "../lib/backup-cli.ts";
import { openVm, setBackupFolder } from "../lib/vm-page.ts";
import { browseLeftovers, HELPER } from "../lib/guest-browse.ts";
import { BROWSE_DIR } from "../../helper/browse/paths.ts";
import { processStartTime } from "../../helper/tools/proc.ts";
import { uiTestBed } from "../lib/test-bed.ts";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Opens the point's file browser from its row menu and waits for the top folder's listing. */
async function openBrowser(page: Page, point: string) {
    await page.locator(`#backup-points tr[data-point="${point}"]`).waitFor();
    await page.getByRole("button", { name: `Actions for ${point}` }).click();
    await page.getByRole("menuitem", { name: "Browse files" }).click();
    await page.locator('#browse-files tr[data-name="hello.txt"]').waitFor({ timeout: 60_000 });
}

/** Nothing of a browse session or its mapping left on the host (polled: close ends the keeper last). */
async function assertNothingLeft(): Promise<void> {
    let last: unknown;
    for (let i = 0; i < 50; i++) {
        const keepers = (await run("pgrep", ["-a", "-f", `${HELPER} browse-point-keep`])).stdout.trim();
        last = { ...await browseLeftovers(), pointKeepers: keepers };
        if (JSON.stringify(last) === JSON.stringify({ mounts: [], loops: [], daemons: [], sessions: [], keepers: [], pointKeepers: "" }))
            return;
        await new Promise(resolve => setTimeout(resolve, 200));
    }
    assert.fail(`left after closing: ${JSON.stringify(last)}`);
}

describe("Browse files of a restore point", { timeout: 600_000 }, () => {
    const bed = uiTestBed({ name: "uibrowse" });
    let vm: TestVm | undefined;
    let cockpit: RunningCockpit;
    let page: Page;
    let work = "";
    const report = randomBytes(300_000);

    before(async () => {
        ({ work, cockpit, page } = bed);
        const tree = path.join(work, "tree");
        fs.mkdirSync(path.join(tree, "docs", "old"), { recursive: true });
        fs.writeFileSync(path.join(tree, "hello.txt"), "hello from the backup\n");
        fs.writeFileSync(path.join(tree, "docs", "report.bin"), report);
        fs.writeFileSync(path.join(tree, "docs", "old", "notes.txt"), "old notes\n");
        vm = await bed.vm({ disks: [{ size: "64M" }], start: false });
        const fsImage = path.join(work, "fs.img");
        fs.writeFileSync(fsImage, "");
        fs.truncateSync(fsImage, vm.disks[0].size);
        await runOk("mkfs.ext4", ["-q", "-F", "-L", "vnbt-ui", "-d", tree, fsImage]);
        await runOk("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", fsImage, vm.disks[0].path]);
        await vm.start();
        await ourBackupOk(["-d", vm.name, "-l", "full", "-o", path.join(work, "backup")]);
        await openVm(page, cockpit, vm);
        await setBackupFolder(page, path.join(work, "backup"));
    });

    it("lists the point's files, navigates folders, downloads a file and a folder with the exact bytes; closing leaves nothing", async () => {
        const started = Date.now();
        await openBrowser(page, "virtnbdbackup.0");
        console.log(`# Browse files: menu to listing in ${Date.now() - started} ms`);
        const view = page.locator("#browse-view");
        const hello = view.locator('#browse-files tr[data-name="hello.txt"]');
        assert.equal((await hello.locator(".browse-size").innerText()).trim(), "22 B");
        assert.match((await hello.locator(".browse-mtime").innerText()).trim(), /\d{2}:\d{2}:\d{2}$/);
        assert.equal(await view.locator('#browse-files tr[data-name="docs"]').getAttribute("data-type"), "folder");
        console.log(`# ${await screenshot(page, "browse-top")}`);
        await assertAccessible(page, "browse-top");

        await view.locator('#browse-files tr[data-name="docs"] .browse-name button').click();
        const row = view.locator('#browse-files tr[data-name="report.bin"]');
        await row.waitFor();
        assert.equal((await row.locator(".browse-size").innerText()).trim(), "293 KiB");
        assert.deepEqual((await view.locator("#browse-breadcrumb li").allInnerTexts()).map(t => t.trim()), ["Top folder", "docs"]);

        const [file] = await Promise.all([page.waitForEvent("download"), row.getByRole("link", { name: "Download report.bin" }).click()]);
        assert.equal(file.suggestedFilename(), "report.bin");
        const saved = path.join(work, "report.bin");
        await file.saveAs(saved);
        assert.equal(sha256(fs.readFileSync(saved)), sha256(report));

        const [tar] = await Promise.all([page.waitForEvent("download"), view.locator("#browse-download-folder").click()]);
        assert.equal(tar.suggestedFilename(), "docs.tar");
        const tarFile = path.join(work, "docs.tar");
        await tar.saveAs(tarFile);
        const out = path.join(work, "untar");
        fs.mkdirSync(out);
        await runOk("tar", ["-xf", tarFile, "-C", out]);
        assert.equal(sha256(fs.readFileSync(path.join(out, "docs", "report.bin"))), sha256(report));
        assert.equal(fs.readFileSync(path.join(out, "docs", "old", "notes.txt"), "utf8"), "old notes\n");

        // Restore to host: the file and a folder into a new host folder, with the guest's bytes.
        const host = path.join(work, "host");
        const restoreTo = async (name: string) => {
            await view.locator(`#browse-files tr[data-name="${name}"]`).getByRole("button", { name: `Restore to host: ${name}`, exact: true }).click();
            const dialog = page.locator("#browse-restore-dialog");
            await dialog.waitFor();
            await dialog.locator("#browse-restore-folder").fill(host);
            await dialog.locator("#browse-restore-start").click();
            await dialog.locator("#browse-restore-done, #browse-restore-failure").first().waitFor({ timeout: 30_000 });
            return dialog;
        };
        let dialog = await restoreTo("report.bin");
        assert.equal((await dialog.locator("#browse-restore-summary").innerText()).trim(), `${path.join(host, "report.bin")}: 1 file, 293 KiB.`);
        console.log(`# ${await screenshot(page, "browse-restore-done")}`);
        await assertAccessible(page, "browse-restore-done");
        assert.equal(sha256(fs.readFileSync(path.join(host, "report.bin"))), sha256(report));
        await dialog.locator("#browse-restore-close").click();
        await dialog.waitFor({ state: "detached" });
        dialog = await restoreTo("old");
        assert.match(await dialog.locator("#browse-restore-summary").innerText(), /old: 1 file, 1 folder, 10 B\.$/);
        assert.equal(fs.readFileSync(path.join(host, "old", "notes.txt"), "utf8"), "old notes\n");
        await dialog.locator("#browse-restore-close").click();
        // Again: the name is taken, nothing is overwritten, and the dialog says so.
        dialog = await restoreTo("report.bin");
        assert.match(await dialog.locator("#browse-restore-failure").innerText(), /already exists; nothing was restored/);
        await assertAccessible(page, "browse-restore-failure");
        // A value the form's own checks refuse: the field says why, and the helper's answer about the old value goes.
        await dialog.locator("#browse-restore-folder").fill("relative/folder");
        await dialog.locator("#browse-restore-start").click();
        await dialog.locator("#browse-restore-folder-error").waitFor();
        assert.equal(await dialog.locator("#browse-restore-failure").count(), 0);
        await dialog.getByRole("button", { name: "Cancel" }).click();
        await dialog.waitFor({ state: "detached" });
        assert.equal(sha256(fs.readFileSync(path.join(host, "report.bin"))), sha256(report));

        await view.locator("#browse-breadcrumb").getByRole("link", { name: "Top folder" }).click();
        await hello.waitFor();
        await view.locator("#browse-close").click();
        await view.waitFor({ state: "detached" });
        await assertNothingLeft();
    });

    it("passes axe in the dark theme; a reload (the page going away) closes the session", async () => {
        await page.evaluate(() => localStorage.setItem("shell:style", "dark"));
        await page.reload();
        await openBrowser(page, "virtnbdbackup.0");
        assert.equal(await page.evaluate(() => document.documentElement.classList.contains("pf-v6-theme-dark")), true);
        console.log(`# ${await screenshot(page, "browse-top-dark")}`);
        await assertAccessible(page, "browse-top-dark");
        await page.evaluate(() => localStorage.removeItem("shell:style"));
        await page.reload();
        await page.locator("#backup-points").waitFor({ timeout: 60_000 });
        await assertNothingLeft();
    });

    it("a killed keeper (SIGKILL): the next helper command closes its session and ends its mapping", async () => {
        const opened = JSON.parse((await runOk(process.execPath, [HELPER, "browse-point", "--domain", vm!.name, "--point", "virtnbdbackup.0"])).stdout) as
            { session: string; socket: string };
        const state = JSON.parse(fs.readFileSync(path.join(BROWSE_DIR, opened.session, "state.json"), "utf8")) as { keeper: { pid: number } };
        const nbdkit = Number((await runOk("pgrep", ["-f", `nbdkit.*${opened.socket}`])).stdout.trim());
        process.kill(state.keeper.pid, "SIGKILL");
        const next = await run(process.execPath, [HELPER, "browse-close", "--session", opened.session]);
        assert.equal(next.stderr, `helper: no browse session ${opened.session} (closed, or ended after being idle)\n`);
        // Gone or a zombie (this machine's PID 1 may not reap the orphan at once).
        const running = (pid: number) => processStartTime(pid) !== null;
        for (let i = 0; i < 100 && running(nbdkit); i++)
            await new Promise(resolve => setTimeout(resolve, 50));
        assert.ok(!running(nbdkit), "the killed keeper's nbdkit is gone");
        assert.ok(!fs.existsSync(path.dirname(opened.socket)), "the killed mapping's folder was removed");
        await assertNothingLeft();
    });
});
