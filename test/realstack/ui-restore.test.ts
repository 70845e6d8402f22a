// SPDX-License-Identifier: GPL-3.0-or-later
// End to end: verify and restore from the Backups tab in the real cockpit-ws 287 and Chromium, on a real
// TCG VM backed up with our CLI (full, then an incremental of live guest writes). Verify finds a
// corrupted byte; a restore through the dialog defines a new VM whose disks qemu-img compares
// identical to the restore point's expected images; the dialog refuses bad targets inline; a restore that
// fails part-way (a corrupted byte in the chain's newest file) leaves nothing behind and frees the job slot;
// a big file's verify shows its progress while it is read.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { run, runOk } from "../lib/exec.ts";
import { LIBVIRT_URI } from "../lib/libvirtd.ts";
import { compareImages, type TestVm } from "../lib/vm.ts";
import type { RunningCockpit } from "../lib/cockpit.ts";
import { screenshot } from "../lib/browser.ts";
import { assertAccessible } from "../lib/axe.ts";
import { ourBackupOk } from "../lib/backup-cli.ts";
import { FRAME_HEADER_LENGTH, parseFrameHeader } from "../../helper/format/index.ts";
import { JOBS_DIR } from "../lib/plugin-state.ts";
import { openVm, setBackupFolder } from "../lib/vm-page.ts";
import { DIST, uiTestBed } from "../lib/test-bed.ts";

/** pids of the processes with a file under `folder` open. */
function processesHolding(folder: string): number[] {
    return fs.readdirSync("/proc").filter(e => /^\d+$/.test(e)).filter(e => {
        try {
            return fs.readdirSync(`/proc/${e}/fd`).some(fd => {
                try {
                    return fs.readlinkSync(`/proc/${e}/fd/${fd}`).startsWith(`${folder}/`);
                } catch {
                    return false;
                }
            });
        } catch {
            return false;  // gone meanwhile, or not ours to look at
        }
    }).map(Number);
}

/** Whether a SIGTERM waits for process `pid` (it is stopped, or has not run since). */
function termPending(pid: number): boolean {
    try {
        const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
        return ["SigPnd", "ShdPnd"].some(f => (BigInt(`0x${new RegExp(`^${f}:\\s*([0-9a-f]+)`, "m").exec(status)?.[1] ?? "0"}`) & (1n << 14n)) !== 0n);
    } catch {
        return false;
    }
}

/** Opens the row's kebab menu and picks an item. */
async function pointAction(page: Page, point: string, item: "Verify" | "Restore…") {
    await page.getByRole("button", { name: `Actions for ${point}` }).click();
    await page.getByRole("menuitem", { name: item }).waitFor();
    await assertAccessible(page, `the open actions menu of ${point}`);
    await page.getByRole("menuitem", { name: item }).click();
}

/** Verifies a point through its row action and waits for the outcome ("ok", "failed" or "error"). */
async function verify(page: Page, point: string): Promise<string> {
    await pointAction(page, point, "Verify");
    const result = page.locator(`#verify-result[data-point="${point}"]:not([data-state="running"])`);
    await result.waitFor({ timeout: 120_000 });
    return (await result.getAttribute("data-state"))!;
}

/** Records in the page every text the element matching `selector` showed (a short state shows only briefly). */
async function recordTexts(page: Page, selector: string): Promise<void> {
    await page.evaluate(sel => {
        const w = window as unknown as { seenTexts: string[] };
        w.seenTexts = [];
        new MutationObserver(() => {
            const text = document.querySelector(sel)?.textContent;
            if (text && w.seenTexts.at(-1) !== text)
                w.seenTexts.push(text);
        }).observe(document.body, { childList: true, subtree: true, characterData: true });
    }, selector);
}

async function recordedTexts(page: Page): Promise<string[]> {
    return page.evaluate(() => (window as unknown as { seenTexts: string[] }).seenTexts);
}

/** Offset of a byte in the middle of the first data frame's payload of an uncompressed stream file. */
function payloadOffset(file: string): number {
    const fd = fs.openSync(file, "r");
    try {
        const header = Buffer.alloc(FRAME_HEADER_LENGTH);
        fs.readSync(fd, header, 0, FRAME_HEADER_LENGTH, 0);
        const meta = parseFrameHeader(header);
        let at = FRAME_HEADER_LENGTH + meta.length + 2;
        for (;;) {
            fs.readSync(fd, header, 0, FRAME_HEADER_LENGTH, at);
            const frame = parseFrameHeader(header);
            if (frame.kind === "data")
                return at + FRAME_HEADER_LENGTH + Math.floor(frame.length / 2);
            if (frame.kind === "stop")
                throw new Error(`${file} has no data frame`);
            at += FRAME_HEADER_LENGTH + (frame.kind === "zero" ? 0 : frame.length + 2);
        }
    } finally {
        fs.closeSync(fd);
    }
}

function flipByte(file: string, offset: number): void {
    const fd = fs.openSync(file, "r+");
    try {
        const b = Buffer.alloc(1);
        fs.readSync(fd, b, 0, 1, offset);
        b[0] ^= 0xff;
        fs.writeSync(fd, b, 0, 1, offset);
    } finally {
        fs.closeSync(fd);
    }
}

describe("Verify and restore in the Backups tab", { timeout: 900_000 }, () => {
    // A defined restored VM's QEMU (user libvirt-qemu) must reach the restored images.
    const bed = uiTestBed({ name: "uirestore", workMode: 0o755 });
    let vm: TestVm;
    /** Big and incompressible: its restore runs for seconds, time to cancel it. */
    let large: TestVm | undefined;
    let largeUuid = "";
    let cockpit: RunningCockpit;
    let page: Page;
    let work: string;
    let folder: string;
    let uuid = "";
    /** VMs the restores defined (undefined in cleanup). */
    const defined: string[] = [];
    /** Expected images per disk, by restore point. */
    const expected = new Map<string, string[]>();

    before(async () => {
        ({ work, cockpit, page } = bed);
        bed.onTeardown(async () => {
            for (const name of defined) {
                if ((await run("virsh", ["-c", LIBVIRT_URI, "undefine", "--domain", name, "--nvram"])).code !== 0)
                    await run("virsh", ["-c", LIBVIRT_URI, "undefine", "--domain", name]);
            }
        });
        folder = path.join(work, "backup");
        vm = await bed.vm({
            disks: [
                { size: "64M", writes: [{ offset: 0, length: "4M", pattern: 0xa1 }, { offset: "16M", length: "3M", random: true }] },
                { size: "32M", writes: [{ offset: "1M", length: "2M", text: "restore tab " }] },
            ],
        });
        uuid = bed.uuid(vm);
        await ourBackupOk(["-d", vm.name, "-l", "full", "-o", folder]);
        await vm.write(0, { offset: "8M", length: "1M", pattern: 0x5c });
        await vm.write(1, { offset: "20M", length: "512K", random: true });
        expected.set("virtnbdbackup.1", [await vm.snapshotExpected(0, "inc1"), await vm.snapshotExpected(1, "inc1")]);
        await ourBackupOk(["-d", vm.name, "-l", "inc", "-o", folder]);
        // Created before the page lists the VMs.
        large = await bed.vm({ disks: [{ size: "2G", writes: [{ offset: 0, length: "1536M", random: true }] }], start: false });
        largeUuid = bed.uuid(large);
        await openVm(page, cockpit, vm);
        await setBackupFolder(page, folder);
        await page.locator('#backup-points tr[data-point="virtnbdbackup.1"]').waitFor();
    });

    it("verifies a good restore point: success, every file of its chain checked", async () => {
        await recordTexts(page, "#verify-progress-text");
        assert.equal(await verify(page, "virtnbdbackup.1"), "ok");
        const texts = await recordedTexts(page);
        assert.ok(texts.some(t => /^File [1-4] of 4 · .+ of .+ checked \(\d+%\)$/.test(t)), `progress shown: ${JSON.stringify(texts)}`);
        const result = page.locator("#verify-result");
        assert.match(await result.innerText(), /Restore point virtnbdbackup\.1 is intact/);
        const rows = result.locator("#verify-files tr[data-file]");
        assert.deepEqual(await rows.evaluateAll(trs => trs.map(tr => [tr.getAttribute("data-file"), tr.getAttribute("data-status")])), [
            ["vda.full.data", "ok"], ["vdb.full.data", "ok"], ["vda.inc.virtnbdbackup.1.data", "ok"], ["vdb.inc.virtnbdbackup.1.data", "ok"],
        ]);
        console.log(`# ${await screenshot(page, "restore-verify-ok")}`);
        await assertAccessible(page, "restore-verify-ok");
        // The first point's chain is the full alone.
        assert.equal(await verify(page, "virtnbdbackup.0"), "ok");
        assert.equal(await page.locator("#verify-files tr[data-file]").count(), 2);
    });

    it("shows a corrupted byte of a data file as a checksum mismatch of that file", async () => {
        const file = path.join(folder, "vda.inc.virtnbdbackup.1.data");
        const offset = payloadOffset(file);
        flipByte(file, offset);
        try {
            assert.equal(await verify(page, "virtnbdbackup.1"), "failed");
            const result = page.locator("#verify-result");
            assert.match(await result.innerText(), /failed verification/);
            const statuses = Object.fromEntries(await result.locator("#verify-files tr[data-file]")
                    .evaluateAll(trs => trs.map(tr => [tr.getAttribute("data-file"), tr.getAttribute("data-status")])));
            assert.deepEqual(statuses, {
                "vda.full.data": "ok", "vdb.full.data": "ok", "vda.inc.virtnbdbackup.1.data": "mismatch", "vdb.inc.virtnbdbackup.1.data": "ok",
            });
            console.log(`# ${await screenshot(page, "restore-verify-mismatch")}`);
            await assertAccessible(page, "restore-verify-mismatch");
            // virtnbdbackup.0 does not include the damaged file.
            assert.equal(await verify(page, "virtnbdbackup.0"), "ok");
        } finally {
            flipByte(file, offset);
        }
        assert.equal(await verify(page, "virtnbdbackup.1"), "ok");
        await page.getByRole("button", { name: "Close the verify result" }).click();
        await page.locator("#verify-result").waitFor({ state: "detached" });
    });

    it("restores a point through the dialog into a new folder and defines a new VM with identical disks", async () => {
        const target = path.join(work, "restored");
        const name = `vnbt-${process.pid}-restored`;
        await openVm(page, cockpit!, vm);
        await page.locator('#backup-points tr[data-point="virtnbdbackup.1"]').waitFor();
        await page.evaluate(() => {
            const w = window as unknown as { sawRestore: boolean };
            w.sawRestore = false;
            new MutationObserver(() => {
                if (document.querySelector('#backup-progress[data-kind="restore"]'))
                    w.sawRestore = true;
            }).observe(document.body, { childList: true, subtree: true });
        });
        await pointAction(page, "virtnbdbackup.1", "Restore…");
        const dialog = page.locator("#restore-dialog");
        await dialog.waitFor();
        assert.equal(await dialog.locator("#restore-point").inputValue(), "virtnbdbackup.1", "the row's point is preselected");
        assert.equal(await dialog.locator("#restore-define").isChecked(), true);
        assert.equal(await dialog.locator("#restore-name").inputValue(), `restore_${vm.name}`);
        await dialog.locator("#restore-target").fill(target);
        await dialog.locator("#restore-name").fill(name);
        console.log(`# ${await screenshot(page, "restore-dialog")}`);
        await assertAccessible(page, "restore-dialog");
        defined.push(name);
        await dialog.locator("#restore-start").click();
        await dialog.waitFor({ state: "detached" });
        const last = page.locator("#restore-last-job");
        await last.waitFor({ timeout: 300_000 });
        if (await last.getAttribute("data-state") !== "succeeded")
            assert.fail(`the restore did not succeed: ${await last.innerText()}`);
        assert.equal(await page.evaluate(() => (window as unknown as { sawRestore: boolean }).sawRestore), true, "the restore's progress was shown");
        assert.match(await last.innerText(), new RegExp(`The new virtual machine ${name} is defined`));
        console.log(`# ${await screenshot(page, "restore-finished")}`);
        await assertAccessible(page, "restore-finished");

        const images = expected.get("virtnbdbackup.1")!;
        for (const [i, disk] of vm.disks.entries()) {
            const output = await last.locator(`#restore-outputs li[data-disk="${disk.dev}"]`).getAttribute("data-output");
            assert.ok(output && path.dirname(output) === target, `${disk.dev} restored into ${output}`);
            const result = await compareImages(output, images[i]!);
            assert.ok(result.identical, `${disk.dev}: ${result.output}`);
        }
        const xml = (await runOk("virsh", ["-c", LIBVIRT_URI, "dumpxml", "--domain", name])).stdout;
        for (const disk of vm.disks)
            assert.ok(xml.includes(path.join(target, path.basename(disk.path))), `the new VM uses the restored ${disk.dev}`);
        const state = JSON.parse(fs.readFileSync(path.join(JOBS_DIR, `${uuid}.json`), "utf8"));
        assert.deepEqual([state.kind, state.state, state.point, state.result.defined], ["restore", "succeeded", "virtnbdbackup.1", name]);
    });

    it("refuses a non-empty target folder and an existing VM name inline, without starting anything", async () => {
        const before = fs.readFileSync(path.join(JOBS_DIR, `${uuid}.json`), "utf8");
        const full = path.join(work, "not-empty");
        fs.mkdirSync(full);
        fs.writeFileSync(path.join(full, "keep.txt"), "mine");
        await pointAction(page, "virtnbdbackup.0", "Restore…");
        const dialog = page.locator("#restore-dialog");
        await dialog.waitFor();
        assert.equal(await dialog.locator("#restore-point").inputValue(), "virtnbdbackup.0");
        // Refused by the helper only: the page cannot see into the folder.
        await dialog.locator("#restore-target").fill(full);
        await dialog.locator("#restore-name").fill(`vnbt-${process.pid}-never`);
        await dialog.locator("#restore-start").click();
        await dialog.locator("#restore-target-error").waitFor();
        assert.match(await dialog.locator("#restore-target-error").innerText(), /not empty/);
        // An existing VM: the one restored above (defined after the page listed the VMs), and the original.
        await dialog.locator("#restore-target").fill(path.join(work, "fresh"));
        for (const taken of [`vnbt-${process.pid}-restored`, vm.name]) {
            await dialog.locator("#restore-name").fill(taken);
            await dialog.locator("#restore-start").click();
            await dialog.locator("#restore-name-error").waitFor();
            assert.match(await dialog.locator("#restore-name-error").innerText(), /already exists/);
        }
        // Inside the backup folder: the same rule as the helper's, at once.
        await dialog.locator("#restore-target").fill(path.join(folder, "x"));
        await dialog.locator("#restore-start").click();
        assert.match(await dialog.locator("#restore-target-error").innerText(), /backup folder/);
        console.log(`# ${await screenshot(page, "restore-dialog-refused")}`);
        await assertAccessible(page, "restore-dialog-refused");
        await dialog.getByRole("button", { name: "Cancel" }).click();
        await dialog.waitFor({ state: "detached" });
        assert.equal(fs.readFileSync(path.join(JOBS_DIR, `${uuid}.json`), "utf8"), before, "no job was started");
        assert.deepEqual(fs.readdirSync(full), ["keep.txt"]);
        assert.equal(fs.existsSync(path.join(work, "fresh")), false);
    });

    it("reports a restore that fails part-way, leaves no files or folder of it, and frees the job slot", async () => {
        // The newest file of the chain: its checksum fails only once its data is on the restored image.
        const file = path.join(folder, "vdb.inc.virtnbdbackup.1.data");
        const offset = payloadOffset(file);
        const target = path.join(work, "failed-restore");
        const name = `vnbt-${process.pid}-failed`;
        await page.locator("#restore-last-job").waitFor();
        assert.notEqual(await page.locator("#restore-last-job").getAttribute("data-state"), "failed", "no failed restore before");
        flipByte(file, offset);
        // What the restore wrote into the target, seen while it runs.
        const seen = new Set<string>();
        const watch = setInterval(() => {
            try {
                for (const f of fs.readdirSync(target))
                    seen.add(f);
            } catch {
                // not made yet, or removed
            }
        }, 5);
        try {
            await pointAction(page, "virtnbdbackup.1", "Restore…");
            const dialog = page.locator("#restore-dialog");
            await dialog.waitFor();
            await dialog.locator("#restore-target").fill(target);
            await dialog.locator("#restore-name").fill(name);
            defined.push(name);
            await dialog.locator("#restore-start").click();
            await dialog.waitFor({ state: "detached" });
            const last = page.locator('#restore-last-job[data-state="failed"]');
            await last.waitFor({ timeout: 300_000 });
            assert.match(await last.innerText(), /The last restore failed/);
            const reason = await last.locator(".backup-error-message").innerText();
            assert.match(reason, /vdb\.inc\.virtnbdbackup\.1\.data: checksum mismatch/);
            assert.doesNotMatch(reason, /\n/, "the reason is one line");
            console.log(`# ${await screenshot(page, "restore-failed")}`);
            await assertAccessible(page, "restore-failed");
        } finally {
            clearInterval(watch);
            flipByte(file, offset);
        }
        assert.ok([...seen].some(f => f.endsWith(".partial")), `the restore had started writing: ${[...seen].join(", ")}`);
        assert.equal(fs.existsSync(target), false, `the failed restore left ${target}`);
        assert.equal((await run("virsh", ["-c", LIBVIRT_URI, "dominfo", "--domain", name])).code, 1, "no VM was defined");
        const state = JSON.parse(fs.readFileSync(path.join(JOBS_DIR, `${uuid}.json`), "utf8"));
        assert.deepEqual([state.kind, state.state], ["restore", "failed"]);

        // The job slot is free: a backup starts from the tab and finishes.
        // (Disabled only while the tab reloads the points after the job's end.)
        await page.locator("#backup-now:enabled").waitFor({ timeout: 30_000 });
        await page.locator("#backup-now").click();
        const backupDialog = page.locator("#backup-now-dialog");
        await backupDialog.waitFor();
        await backupDialog.locator("#backup-now-start").click();
        await backupDialog.waitFor({ state: "detached" });
        const backup = page.locator("#backup-last-job");
        await backup.waitFor({ timeout: 300_000 });
        assert.equal(await backup.getAttribute("data-state"), "succeeded", await backup.innerText());
        await page.locator('#backup-points tr[data-point="virtnbdbackup.2"]').waitFor();
    });

    it("cancels a running restore: the UI says cancelled and nothing of it is left", async () => {
        const largeFolder = path.join(work, "large-backup");
        await ourBackupOk(["-d", large!.name, "-l", "full", "-o", largeFolder]);
        await openVm(page, cockpit!, large!);
        await setBackupFolder(page, largeFolder);
        // A shut-off VM's full is a copy (outside the chain): its point is "copy".
        await page.locator('#backup-points tr[data-point="copy"]').waitFor();
        const target = path.join(work, "large-restore");
        await pointAction(page, "copy", "Restore…");
        const dialog = page.locator("#restore-dialog");
        await dialog.waitFor();
        await dialog.locator("#restore-target").fill(target);
        await dialog.locator("#restore-define").uncheck();
        await dialog.locator("#restore-start").click();
        await dialog.waitFor({ state: "detached" });
        await page.locator('#backup-progress[data-kind="restore"]').waitFor({ timeout: 60_000 });
        await page.waitForFunction(() => /[1-9]\d*(\.\d+)? (MiB|GiB) of/.test(document.querySelector("#backup-progress-overall")?.textContent ?? ""),
                                   undefined, { timeout: 60_000 });
        // The restore takes seconds: the job's process (the one holding the partial image open) is held still
        // here, so that the checks below and the cancel come while it runs; it goes on once the cancel's
        // SIGTERM waits for it.
        const writers = processesHolding(target);
        assert.equal(writers.length, 1, "one process writes the restore");
        const writer = writers[0]!;
        process.kill(writer, "SIGSTOP");
        // The runner gives the restore CLI its node options (helper/cli/node-options.json) without changing its argv.
        assert.match(fs.readFileSync(`/proc/${writer}/environ`, "latin1"), /(^|\0)NODE_OPTIONS=[^\0]*--max-semi-space-size=4/);
        assert.match(fs.readFileSync(`/proc/${writer}/cmdline`, "latin1"), /^[^\0]*node\0[^\0]*virtnbdrestore\.js\0--json\0/);
        try {
            console.log(`# ${await screenshot(page, "restore-progress")}`);
            await assertAccessible(page, "restore-progress");
            assert.equal(await page.locator("#backup-now").isDisabled(), true, "no backup while the restore runs");
            // The helper refuses a second job of the VM, whatever its kind, and says why.
            const helper = path.join(DIST, "helper", "helper.js");
            const backup = await run(process.execPath, [helper, "start-backup", "--domain", large!.name, "--level", "full"]);
            assert.equal(backup.code, 1, backup.stderr);
            assert.match(backup.stderr, /a restore of .* is already running/);
            const again = await run(process.execPath, [helper, "start-restore", "--domain", large!.name, "--point", "copy", "--target", path.join(work, "other")]);
            assert.equal(again.code, 1, again.stderr);
            assert.match(again.stderr, /a restore of .* is already running/);
            await page.locator("#backup-cancel").click();
            await page.locator("#backup-cancel-dialog").waitFor();
            await page.locator("#backup-cancel-confirm").click();
            for (let i = 0; i < 200 && !termPending(writer); i++)
                await new Promise(resolve => setTimeout(resolve, 50));
            assert.ok(termPending(writer), "the cancel sent the restore a SIGTERM");
        } finally {
            process.kill(writer, "SIGCONT");
        }
        const last = page.locator("#restore-last-job");
        await last.waitFor({ timeout: 120_000 });
        assert.equal(await last.getAttribute("data-state"), "cancelled", await last.innerText());
        assert.deepEqual(processesHolding(target), [], "nothing holds the target any more");
        assert.equal(fs.existsSync(target), false, `the cancelled restore left ${target}`);
        const state = JSON.parse(fs.readFileSync(path.join(JOBS_DIR, `${largeUuid}.json`), "utf8"));
        assert.deepEqual([state.kind, state.state], ["restore", "cancelled"]);
    });

    it("shows a big file's verify progress while the file is read, not only between files", async () => {
        // The large VM's folder is open: one 1.5 GiB data file.
        await recordTexts(page, "#verify-progress-text");
        assert.equal(await verify(page, "copy"), "ok");
        const texts = await recordedTexts(page);
        const within = texts.map(t => /^File 1 of 1 · .+ checked \((\d+)%\)$/.exec(t)?.[1]).filter(p => p !== undefined).map(Number)
            .filter(p => p > 0 && p < 100);
        assert.ok(within.length >= 2, `progress within the file: ${JSON.stringify(texts)}`);
        assert.deepEqual(within, [...within].sort((a, b) => a - b), "progress only grows");
        console.log(`# verify progress seen: ${within.join("% ")}%`);
    });
});
