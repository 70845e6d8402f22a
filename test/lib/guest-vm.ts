// SPDX-License-Identifier: GPL-3.0-or-later
// The real Debian guest of guest-image.ts as a throw-away libvirt domain: its disks copied from the cache,
// direct kernel boot under TCG, the serial console into a file (the test waits for the ready marker there),
// and a QEMU guest agent channel the tests talk to (guest-exec, guest-file-*, fsfreeze status).
import fs from "node:fs";
import path from "node:path";
import { run, runOk } from "./exec.ts";
import { guestImage, GUEST_READY_MARKER, type GuestImage } from "./guest-image.ts";
import { LIBVIRT_URI } from "./libvirtd.ts";
import { freeName } from "./vm.ts";

const VM_DIR_PARENT = "/var/tmp";
const BOOT_TIMEOUT_MS = 240_000;
const live = new Set<GuestVm>();

/** Options of GuestVm.create(). */
export interface GuestVmOptions {
    /** Configure the guest agent channel (default true); without it the helper cannot freeze. */
    agent?: boolean;
    memoryMiB?: number;
}

/** What guest-exec reports of a finished command. */
export interface GuestExecResult {
    exitcode: number;
    stdout: string;
    stderr: string;
}

export class GuestVm {
    /** Disk images in target order: vda (root, ext4 in partition 1), vdb (xfs on the whole disk). */
    readonly disks: { dev: string; path: string }[];
    readonly consoleLog: string;
    private cleanedUp = false;

    private constructor(readonly name: string, readonly dir: string, readonly image: GuestImage) {
        this.disks = [{ dev: "vda", path: path.join(dir, "vda.qcow2") }, { dev: "vdb", path: path.join(dir, "vdb.qcow2") }];
        this.consoleLog = path.join(dir, "console.log");
    }

    /** Copies the cached image's disks, defines the domain and starts it (not waiting for the boot). */
    static async create(opts: GuestVmOptions = {}): Promise<GuestVm> {
        const image = await guestImage();
        const name = await freeName();
        const dir = fs.mkdtempSync(path.join(VM_DIR_PARENT, `${name}-`));
        fs.chmodSync(dir, 0o755);  // QEMU (libvirt-qemu) reaches the images
        const vm = new GuestVm(name, dir, image);
        live.add(vm);
        try {
            await runOk("cp", ["--sparse=always", image.rootDisk, vm.disks[0]!.path]);
            await runOk("cp", ["--sparse=always", image.dataDisk, vm.disks[1]!.path]);
            for (const f of [image.kernel, image.initrd])
                fs.copyFileSync(f, path.join(dir, path.basename(f)));
            const xml = path.join(dir, "domain.xml");
            fs.writeFileSync(xml, vm.domainXml(opts));
            await virsh(["define", "--file", xml]);
            await virsh(["start", "--domain", name]);
            return vm;
        } catch (e) {
            await vm.cleanup().catch(() => {});
            throw e;
        }
    }

    /** Cleans up every GuestVm of this process (for an after() hook). */
    static async cleanupAll(): Promise<void> {
        for (const vm of [...live])
            await vm.cleanup();
    }

    /** Waits for the ready marker on the serial console; returns the milliseconds waited. */
    async waitReady(timeoutMs = BOOT_TIMEOUT_MS): Promise<number> {
        const started = Date.now();
        while (Date.now() - started < timeoutMs) {
            if (fs.existsSync(this.consoleLog) && fs.readFileSync(this.consoleLog, "latin1").includes(GUEST_READY_MARKER))
                return Date.now() - started;
            await sleep(250);
        }
        const tail = fs.existsSync(this.consoleLog) ? fs.readFileSync(this.consoleLog, "latin1").slice(-2000) : "(no console output)";
        throw new Error(`${this.name} did not print ${GUEST_READY_MARKER} within ${timeoutMs} ms; console:\n${tail}`);
    }

    /** Sends one command to the guest agent and returns its "return" value. */
    async agent(execute: string, args?: object, timeoutSec = 30): Promise<unknown> {
        const cmd = JSON.stringify(args ? { execute, arguments: args } : { execute });
        const out = (await runOk("virsh", ["-c", LIBVIRT_URI, "qemu-agent-command", "--domain", this.name, "--timeout", String(timeoutSec), cmd],
            { env: { LC_ALL: "C" } })).stdout;
        return (JSON.parse(out) as { return: unknown }).return;
    }

    /** Waits until the agent answers guest-ping. */
    async waitAgent(timeoutMs = 60_000): Promise<void> {
        const started = Date.now();
        for (;;) {
            try {
                await this.agent("guest-ping", undefined, 5);
                return;
            } catch (e) {
                if (Date.now() - started > timeoutMs)
                    throw e;
                await sleep(500);
            }
        }
    }

    /** Runs a program in the guest through the agent and waits for it. */
    async exec(pathInGuest: string, args: string[] = [], input?: string | Buffer): Promise<GuestExecResult> {
        const req: Record<string, unknown> = { path: pathInGuest, arg: args, "capture-output": true };
        if (input !== undefined)
            req["input-data"] = Buffer.from(input).toString("base64");
        const { pid } = await this.agent("guest-exec", req) as { pid: number };
        for (;;) {
            const st = await this.agent("guest-exec-status", { pid }) as { exited: boolean; exitcode?: number; "out-data"?: string; "err-data"?: string };
            if (st.exited) {
                return {
                    exitcode: st.exitcode ?? -1,
                    stdout: Buffer.from(st["out-data"] ?? "", "base64").toString("utf8"),
                    stderr: Buffer.from(st["err-data"] ?? "", "base64").toString("utf8"),
                };
            }
            await sleep(200);
        }
    }

    /** exec() that fails unless the command exits 0. */
    async execOk(pathInGuest: string, args: string[] = [], input?: string | Buffer): Promise<string> {
        const r = await this.exec(pathInGuest, args, input);
        if (r.exitcode !== 0)
            throw new Error(`guest ${pathInGuest} ${args.join(" ")}: exit ${r.exitcode}: ${r.stderr.trim()}`);
        return r.stdout;
    }

    /** Writes a file in the guest and syncs it to its disk (what a backup then sees). */
    async writeFile(pathInGuest: string, content: string | Buffer): Promise<void> {
        await this.execOk("/bin/sh", ["-c", 'cat > "$1" && sync "$1"', "sh", pathInGuest], content);
    }

    /** The agent's guest-fsfreeze-status: "thawed" or "frozen". */
    async fsfreezeStatus(): Promise<string> {
        return await this.agent("guest-fsfreeze-status") as string;
    }

    /** Powers off, undefines, deletes the copies. Idempotent. */
    async cleanup(): Promise<void> {
        if (this.cleanedUp)
            return;
        this.cleanedUp = true;
        live.delete(this);
        if ((await run("virsh", ["-c", LIBVIRT_URI, "domuuid", "--domain", this.name])).code === 0) {
            await run("virsh", ["-c", LIBVIRT_URI, "destroy", "--domain", this.name]);
            const cps = await run("virsh", ["-c", LIBVIRT_URI, "checkpoint-list", "--domain", this.name, "--name", "--topological"]);
            for (const cp of cps.stdout.split("\n").filter(Boolean).reverse())
                await run("virsh", ["-c", LIBVIRT_URI, "checkpoint-delete", "--domain", this.name, "--checkpointname", cp, "--metadata"]);
            await virsh(["undefine", "--domain", this.name, "--checkpoints-metadata", "--snapshots-metadata"]);
        }
        fs.rmSync(`/var/log/libvirt/qemu/${this.name}.log`, { force: true });
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    private domainXml(opts: GuestVmOptions): string {
        const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/'/g, "&apos;");
        const disks = this.disks.map(d => `
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${esc(d.path)}'/>
      <target dev='${d.dev}' bus='virtio'/>
    </disk>`).join("");
        const agent = opts.agent ?? true ? `
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>` : "";
        // TCG (no usable /dev/kvm here), Debian's kernel loaded directly: no bootloader, no firmware menu.
        return `<domain type='qemu'>
  <name>${esc(this.name)}</name>
  <memory unit='MiB'>${opts.memoryMiB ?? 384}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${esc(path.join(this.dir, path.basename(this.image.kernel)))}</kernel>
    <initrd>${esc(path.join(this.dir, path.basename(this.image.initrd)))}</initrd>
    <cmdline>${esc(this.image.cmdline)}</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>${disks}
    <serial type='file'>
      <source path='${esc(this.consoleLog)}'/>
      <target port='0'/>
    </serial>${agent}
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
`;
    }
}

async function virsh(args: string[]): Promise<string> {
    return (await runOk("virsh", ["-c", LIBVIRT_URI, ...args], { env: { LC_ALL: "C" } })).stdout;
}

function sleep(ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms));
}
