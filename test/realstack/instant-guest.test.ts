// SPDX-License-Identifier: GPL-3.0-or-later
// Start from backup of the real Debian guest (test/lib/guest-vm.ts): its backup, started as a new VM on
// overlays over the mapped point, boots to its serial marker (written into the new VM's own console file,
// not the original's); every backup file is unchanged by the boot; Discard leaves nothing.
// Runs alone: it boots the Debian guest under TCG (CPU-bound) and checks the host's maps folder.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ensureLibvirtd } from "../lib/libvirtd.ts";
import { GuestVm } from "../lib/guest-vm.ts";
import { GUEST_READY_MARKER } from "../lib/guest-image.ts";
import { ourBackupOk, ourCli } from "../lib/backup-cli.ts";
import { run, runOk } from "../lib/exec.ts";
import { removePluginState } from "../lib/plugin-state.ts";

let stopLibvirtd: () => Promise<void> = async () => {};
let work = "";
const helper = () => path.join(path.dirname(ourCli("virtnbdbackup")), "helper.js");
let startedName: string | undefined;

before(async () => {
    stopLibvirtd = await ensureLibvirtd();
    work = fs.mkdtempSync(path.join("/var/tmp", `vnbt-${process.pid}-instant-guest-`));
    fs.chmodSync(work, 0o711);  // QEMU (libvirt-qemu) reaches the overlays below it
});

after(async () => {
    if (startedName)
        await run(process.execPath, [helper(), "discard-instant-vm", "--name", startedName]);
    await GuestVm.cleanupAll();
    fs.rmSync(work, { recursive: true, force: true });
    await stopLibvirtd();
});

function checksums(dir: string): Map<string, string> {
    const sums = new Map<string, string>();
    for (const name of fs.readdirSync(dir, { recursive: true }) as string[]) {
        const file = path.join(dir, name);
        if (fs.statSync(file).isFile())
            sums.set(name, createHash("sha256").update(fs.readFileSync(file)).digest("hex"));
    }
    return sums;
}

test("the real guest started from its backup boots to its serial marker; the backup stays as it was", async () => {
    const guest = await GuestVm.create();
    await guest.waitReady();
    const uuid = (await runOk("virsh", ["-c", "qemu:///system", "domuuid", guest.name])).stdout.trim();
    const backup = path.join(work, "backup");
    const overlays = path.join(work, "overlays");
    try {
        await ourBackupOk(["-d", guest.name, "-l", "full", "-o", backup]);
        // The original off: the recovered one stands in for it (and TCG has the cores to itself).
        await runOk("virsh", ["-c", "qemu:///system", "destroy", guest.name]);
        await runOk(process.execPath, [helper(), "set-settings", "--domain", guest.name, "--folder", backup, "--schedule", "off"]);
        const before = checksums(backup);
        const originalConsole = fs.readFileSync(guest.consoleLog);
        const name = `${guest.name}-now`;
        const t0 = Date.now();
        const r = await run(process.execPath, [helper(), "start-from-backup", "--domain", guest.name, "--point", "virtnbdbackup.0",
            "--name", name, "--folder", overlays], { timeoutMs: 240_000 });
        assert.equal(r.code, 0, r.stderr);
        startedName = name;
        const startedMs = Date.now() - t0;
        const consoleLog = path.join(fs.realpathSync(overlays), `${name}.console.log`);
        let bootMs = -1;
        while (Date.now() - t0 < 240_000) {
            if (fs.existsSync(consoleLog) && fs.readFileSync(consoleLog, "latin1").includes(GUEST_READY_MARKER)) {
                bootMs = Date.now() - t0;
                break;
            }
            await new Promise(resolve => setTimeout(resolve, 250));
        }
        assert.ok(bootMs > 0, `no ${GUEST_READY_MARKER} in ${consoleLog}: ${fs.existsSync(consoleLog) ? fs.readFileSync(consoleLog, "latin1").slice(-1500) : "(none)"}`);
        console.log(`# started from backup in ${(startedMs / 1000).toFixed(1)} s, guest at its marker after ${(bootMs / 1000).toFixed(1)} s (TCG)`);
        assert.deepEqual(fs.readFileSync(guest.consoleLog), originalConsole, "the original's console file untouched");
        const discarded = await run(process.execPath, [helper(), "discard-instant-vm", "--name", name]);
        assert.equal(discarded.code, 0, discarded.stderr);
        startedName = undefined;
        assert.deepEqual(fs.readdirSync(overlays), []);
        assert.deepEqual(checksums(backup), before, "every backup file unchanged by the boot");
    } finally {
        removePluginState([uuid]);
    }
});
