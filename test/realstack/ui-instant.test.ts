// SPDX-License-Identifier: GPL-3.0-or-later
// End to end: "Start from backup…" of a restore point and the Backups tab's "Instant recovery" section in the
// real cockpit-ws 287 and Chromium, on a real backup of a TCG VM (no guest OS: its disk is only read by the
// firmware, so a disk's content stays what the point holds). The dialog proposes a free name, refuses an
// overlay folder in the backup folder inline, starts the VM (libvirt says it runs; its overlay reads as the
// point); Move to storage copies it into the chosen folder (the copy equals the point, the VM runs on it and
// nothing of the overlay or mapping stays; its row goes and an alert names the copies until closed); a second start is discarded (nothing left). axe on every state, the
// section and the discard confirmation also in the dark theme.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { run, runOk } from "../lib/exec.ts";
import { LIBVIRT_URI } from "../lib/libvirtd.ts";
import type { TestVm } from "../lib/vm.ts";
import { screenshot } from "../lib/browser.ts";
import { assertAccessible } from "../lib/axe.ts";
import { ourBackupOk, ourCli } from "../lib/backup-cli.ts";
import { openVm } from "../lib/vm-page.ts";
import { INSTANT_DIR } from "../../helper/instant/instant-record.ts";
import { MAPS_DIR } from "../../helper/map/map-dirs.ts";
import { uiTestBed } from "../lib/test-bed.ts";

const HELPER = path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");

async function vmState(name: string): Promise<string | null> {
    const r = await run("virsh", ["-c", LIBVIRT_URI, "domstate", name]);
    return r.code === 0 ? r.stdout.trim() : null;
}

const listing = (dir: string) => fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];

/** The mapping folder an overlay reads the point through (its backing file's socket), not another test's. */
async function mapDirOf(overlay: string): Promise<string> {
    const info = JSON.parse((await runOk("qemu-img", ["info", "-U", "--output=json", overlay])).stdout) as { "backing-filename": string };
    const socket = /socket=(\/\S+)/.exec(info["backing-filename"])?.[1] ?? "";
    assert.ok(socket.startsWith(MAPS_DIR + "/"), info["backing-filename"]);
    return socket.slice(0, socket.indexOf("/", MAPS_DIR.length + 1));
}

describe("Start from backup and instant recovery in the Backups tab", { timeout: 600_000 }, () => {
    const bed = uiTestBed({ name: "uiinstant", workMode: 0o711 });  // QEMU (libvirt-qemu) reaches the overlays and copies below it
    let vm: TestVm;
    let page: Page;
    let work = "";
    let backup = "";
    let atPoint = "";
    const made: string[] = [];

    before(async () => {
        ({ work, page } = bed);
        // The VMs started from backup go before the VM they were started from.
        bed.onTeardown(async () => {
            for (const name of made) {
                await run(process.execPath, [HELPER, "discard-instant-vm", "--name", name]);
                await run("virsh", ["-c", LIBVIRT_URI, "destroy", name]);
                await run("virsh", ["-c", LIBVIRT_URI, "undefine", name, "--nvram"]);
            }
        });
        vm = await bed.vm({ disks: [{ size: "64M", writes: [
            { offset: 0, length: "4M", random: true, seed: 21 }, { offset: "40M", length: "1M", pattern: 0x6b }] }] });
        backup = path.join(work, "backup");
        await ourBackupOk(["-d", vm.name, "-l", "full", "-o", backup]);
        atPoint = await vm.snapshotExpected(0, "p0");
        await runOk(process.execPath, [HELPER, "set-settings", "--domain", vm.name, "--folder", backup, "--schedule", "off"]);
        await openVm(page, bed.cockpit, vm);
    });

    const row = (name: string) => page.locator(`#instant-vms tr[data-name="${name}"]`);

    /** Opens "Start from backup…" of the point and checks the name it proposes. */
    async function openStart(expectedName: string) {
        await page.locator("#point-actions-virtnbdbackup\\.0").click();
        await page.getByRole("menuitem", { name: "Start from backup…" }).click();
        const dialog = page.locator("#instant-dialog");
        await dialog.waitFor();
        assert.equal(await dialog.locator("#instant-name").inputValue(), expectedName);
        assert.equal(await dialog.locator("#instant-folder").inputValue(), "/var/lib/libvirt/images");
        return dialog;
    }

    async function rowAction(name: string, item: string) {
        await page.getByRole("button", { name: `Actions for ${name}` }).click();
        await page.getByRole("menuitem", { name: item }).click();
    }

    it("starts a VM from a restore point, shows it running, and moves it to storage while it runs", async () => {
        const name = `restore_${vm.name}`;
        const overlays = path.join(work, "overlays");
        const dialog = await openStart(name);
        await assertAccessible(page, "start-from-backup dialog");

        // An overlay folder in the backup folder: refused at the field, nothing starts.
        await dialog.locator("#instant-folder").fill(path.join(backup, "overlays"));
        await dialog.locator("#instant-start").click();
        assert.match(await dialog.locator("#instant-folder-error").innerText(), /may not be the backup folder or inside it/);
        console.log(`# ${await screenshot(page, "instant-dialog-error")}`);
        await assertAccessible(page, "start-from-backup dialog with an error");
        assert.equal(await vmState(name), null);

        await dialog.locator("#instant-folder").fill(overlays);
        const started = Date.now();
        await dialog.locator("#instant-start").click();
        made.push(name);
        await dialog.waitFor({ state: "detached", timeout: 120_000 });
        await row(name).locator('.vm-state[data-state="running"]').waitFor({ timeout: 30_000 });
        console.log(`# start from backup: Start to a running row in ${Date.now() - started} ms`);
        assert.equal(await vmState(name), "running");
        assert.equal((await row(name).locator(".instant-point").innerText()).trim(), "virtnbdbackup.0");
        const overlay = path.join(overlays, `${name}.vda.qcow2`);
        assert.match(await row(name).locator(".instant-disks").innerText(), new RegExp(`vda on the backup, writes in ${overlay.replace(/[.]/g, "\\.")}`));
        const same = await run("qemu-img", ["compare", "-U", "-F", "raw", overlay, atPoint]);
        assert.equal(same.code, 0, `the new VM's disk is the point: ${same.stdout}${same.stderr}`);
        console.log(`# ${await screenshot(page, "instant-running")}`);
        await assertAccessible(page, "instant recovery section");

        // Move to storage: the disk copied while it runs; then it stands on its own.
        const map = await mapDirOf(overlay);
        assert.ok(fs.existsSync(map));
        await rowAction(name, "Move to storage…");
        const move = page.locator("#move-instant-dialog");
        await move.waitFor();
        console.log(`# ${await screenshot(page, "instant-move-dialog")}`);
        await assertAccessible(page, "move to storage dialog");
        const storage = path.join(work, "storage");
        await move.locator("#move-instant-folder").fill(storage);
        await move.locator("#move-instant-start").click();
        await move.waitFor({ state: "detached", timeout: 120_000 });
        // An ordinary VM now: no row (nor after a reload: no record), an alert says once where its disks are.
        const movedAlert = page.locator(`#instant-recovery .instant-moved-alert[data-name="${name}"]`);
        await movedAlert.waitFor();
        await row(name).waitFor({ state: "detached" });
        const copy = path.join(storage, `${name}.vda.moved.qcow2`);
        assert.match(await movedAlert.innerText(), new RegExp(`${name} was moved to storage[^]*no longer needs the backup[^]*${copy.replace(/[.]/g, "\\.")}`));
        console.log(`# ${await screenshot(page, "instant-moved")}`);
        await assertAccessible(page, "instant recovery section after the move");
        await movedAlert.getByRole("button", { name: `Close the note that ${name} was moved` }).click();
        await page.locator("#instant-recovery").waitFor({ state: "detached" });
        assert.equal(await vmState(name), "running");
        const inactive = (await runOk("virsh", ["-c", LIBVIRT_URI, "dumpxml", "--inactive", name])).stdout;
        assert.ok(inactive.includes(copy) && !inactive.includes("nbd"), inactive);
        const moved = await run("qemu-img", ["compare", "-U", "-F", "raw", copy, atPoint]);
        assert.equal(moved.code, 0, `the moved disk is the point: ${moved.stdout}${moved.stderr}`);
        assert.deepEqual(listing(overlays).filter(f => f.endsWith(".qcow2")), [], "the overlay is gone");
        for (let i = 0; i < 50 && fs.existsSync(path.join(INSTANT_DIR, `${name}.json`)); i++)
            await new Promise(resolve => setTimeout(resolve, 100));
        assert.equal(fs.existsSync(path.join(INSTANT_DIR, `${name}.json`)), false, "no record: it is an ordinary VM now");
        assert.equal(fs.existsSync(map), false, `the mapping ${map} is dropped`);
    });

    it("discards a started VM: VM, overlay and mapping gone, the backup kept", async () => {
        // restore_<vm> is taken now (the moved VM): the next free name is proposed.
        const name = `restore_${vm.name}_2`;
        const overlays = path.join(work, "overlays");
        const dialog = await openStart(name);
        await dialog.locator("#instant-folder").fill(overlays);
        await dialog.locator("#instant-start").click();
        made.push(name);
        await dialog.waitFor({ state: "detached", timeout: 120_000 });
        await row(name).locator('.vm-state[data-state="running"]').waitFor({ timeout: 30_000 });
        const map = await mapDirOf(path.join(overlays, `${name}.vda.qcow2`));
        assert.ok(fs.existsSync(map));
        // The section and the confirmation in the dark theme; after a reload the list comes from the helper.
        await page.evaluate(() => localStorage.setItem("shell:style", "dark"));
        await page.reload();
        await row(name).locator('.vm-state[data-state="running"]').waitFor({ timeout: 60_000 });
        assert.equal(await page.evaluate(() => document.documentElement.classList.contains("pf-v6-theme-dark")), true);
        await assertAccessible(page, "instant recovery section, dark");

        await rowAction(name, "Discard…");
        const discard = page.locator("#discard-instant-dialog");
        await discard.waitFor();
        const items = (await discard.locator("#discard-instant-list li").allInnerTexts()).map(s => s.trim());
        assert.deepEqual(items, [
            `The virtual machine ${name}, stopped and undefined`,
            `Its disk vda: ${path.join(overlays, `${name}.vda.qcow2`)}, with everything written to it since it started`,
            "The mapping of restore point virtnbdbackup.0",
        ]);
        console.log(`# ${await screenshot(page, "instant-discard-dialog")}`);
        await assertAccessible(page, "discard dialog, dark");
        const backupFiles = listing(backup);
        await discard.locator("#discard-instant-confirm").click();
        await discard.waitFor({ state: "detached", timeout: 60_000 });
        await row(name).waitFor({ state: "detached" });
        assert.equal(await vmState(name), null);
        assert.deepEqual(listing(overlays).filter(f => f.startsWith(name)), []);
        assert.equal(fs.existsSync(path.join(INSTANT_DIR, `${name}.json`)), false);
        assert.equal(fs.existsSync(map), false, `the mapping ${map} is stopped`);
        assert.deepEqual(listing(backup), backupFiles);
        await page.evaluate(() => localStorage.removeItem("shell:style"));
    });
});
