// SPDX-License-Identifier: GPL-3.0-or-later
// `npm run demo`: a running demo on this machine — libvirtd, a small demo VM with data, and cockpit-ws
// on 127.0.0.1:9090 serving the built plugin, kept up by a supervisor (tools/demo-server.ts). Safe to run
// again: what already runs and works is kept, a cockpit-ws whose session ended is replaced.
// `npm run demo -- --stop` stops the demo's cockpit-ws (the VM and libvirtd stay).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ensureCron } from "../test/lib/cron.ts";
import { ensureLibvirtd } from "../test/lib/libvirtd.ts";
import { ensureDemoServer, stopDemoServer, type DemoServer } from "./demo-server.ts";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const VM = "backup-demo";
const STATE = "/var/lib/cockpit-virtnbdbackup-demo";
const PORT = 9090;

function sh(cmd: string, args: string[], input?: string): string {
    return execFileSync(cmd, args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
}

function vmExists(): boolean {
    try {
        sh("virsh", ["-c", "qemu:///system", "domstate", VM]);
        return true;
    } catch {
        return false;
    }
}

function createVm() {
    fs.mkdirSync(STATE, { recursive: true });
    const disks = [["vda", "system.qcow2", "2G"], ["vdb", "data.qcow2", "1G"]];
    for (const [, file, size] of disks) {
        const image = path.join(STATE, file);
        if (!fs.existsSync(image)) {
            sh("qemu-img", ["create", "-q", "-f", "qcow2", image, size]);
            // Some data to back up: patterns at a few places, like a small installed system.
            sh("qemu-io", ["-f", "qcow2", "-c", "write -P 0x5a 0 64M", "-c", "write -P 0x17 512M 32M", "-c", "write -P 0xc3 900M 16M", image]);
        }
    }
    const xml = `<domain type='qemu'>
  <name>${VM}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
${disks.map(([dev, file]) => `    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${path.join(STATE, file)}'/><target dev='${dev}' bus='virtio'/></disk>`).join("\n")}
    <console type='pty'/>
  </devices>
</domain>`;
    const xmlFile = path.join(STATE, "domain.xml");
    fs.writeFileSync(xmlFile, xml);
    sh("virsh", ["-c", "qemu:///system", "define", "--file", xmlFile]);
}

async function main() {
    const server: DemoServer = { port: PORT, xdg: path.join(STATE, "xdg"), stateDir: STATE };
    if (process.argv.includes("--stop")) {
        await stopDemoServer(server);
        console.log("The demo's cockpit-ws is stopped.");
        return;
    }
    await ensureLibvirtd(); // left running on purpose
    await ensureCron(); // automatic backups; left running too
    if (!vmExists())
        createVm();
    if (sh("virsh", ["-c", "qemu:///system", "domstate", VM]).trim() !== "running")
        sh("virsh", ["-c", "qemu:///system", "start", VM]);

    fs.mkdirSync(path.join(server.xdg, "cockpit"), { recursive: true });
    const link = path.join(server.xdg, "cockpit", "virtnbdbackup");
    fs.rmSync(link, { force: true });
    fs.symlinkSync(path.join(root, "dist"), link);

    const how = await ensureDemoServer(server);
    console.log(how === "kept" ? "cockpit-ws was already serving the demo." : "cockpit-ws started (supervised: it stays usable while the demo runs).");
    console.log(`\nDemo VM "${VM}" is running; backups go to any folder you choose, e.g. /var/lib/cockpit-virtnbdbackup-demo/backups.`);
    console.log(`Open: http://127.0.0.1:${PORT}/cockpit/@localhost/virtnbdbackup/index.html`);
    console.log(`(or the full Cockpit shell: http://127.0.0.1:${PORT}/ )`);
}

main().catch(err => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
});
