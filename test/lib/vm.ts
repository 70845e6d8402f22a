// SPDX-License-Identifier: GPL-3.0-or-later
// Throw-away TCG VMs for tests: real libvirt domains with qcow2/raw disks holding known data, plus an
// "expected image" (a sparse raw file) beside every disk that receives the same writes, so a backup or
// restore can be checked with `qemu-img compare`.
//
// Live writes go through QEMU's HMP `qemu-io -d <qdev path>` (what the guest writing would look like to
// dirty bitmaps); offline writes use qemu-io on the image file. Call ensureLibvirtd() before create().
import { createCipheriv, createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { run, runOk } from "./exec.ts";
import { LIBVIRT_URI } from "./libvirtd.ts";
import { processAlive } from "../../helper/tools/proc.ts";

/** A size or offset: bytes, or a string with a binary suffix as qemu-img takes it ("64M", "1G", "512K"). */
export type Size = number | string;

/** One write into a disk: a byte pattern, zeroes, or data generated in JS (offline, or live via a data file). */
export type Write =
    | { offset: Size; length: Size; pattern: number }
    | { offset: Size; length: Size; zero: true }
    /** Incompressible bytes, reproducible from the seed (default: the offset). */
    | { offset: Size; length: Size; random: true; seed?: number }
    /** The text repeated to fill the range (compressible, like real files). */
    | { offset: Size; length: Size; text: string };

/** One disk to create. */
export interface TestDiskSpec {
    size: Size;
    /** Default qcow2. */
    format?: "qcow2" | "raw";
    /** Applied offline before the VM starts, to the disk and to its expected image. */
    writes?: Write[];
}

/** Options of TestVm.create(). */
export interface TestVmOptions {
    disks: TestDiskSpec[];
    /** Start the VM after defining it (default true). */
    start?: boolean;
    /** Domain name; default vnbt-<pid>-<counter>. */
    name?: string;
    /** Directory for the images (must be reachable by the qemu user); default a fresh one under /var/tmp. */
    dir?: string;
    /** Guest RAM in MiB (default 64: SeaBIOS without an OS needs little). */
    memoryMiB?: number;
}

/** A disk of a TestVm. */
export interface TestDisk {
    /** Guest target device: vda, vdb, ... */
    dev: string;
    /** The image file libvirt uses. */
    path: string;
    format: "qcow2" | "raw";
    /** Virtual size in bytes. */
    size: number;
    /** Sparse raw file holding what the disk must contain. */
    expectedPath: string;
}

/** Result of a comparison with qemu-img compare. */
export interface CompareResult {
    identical: boolean;
    /** qemu-img's output, e.g. "Images are identical." or "Content mismatch at offset 1048576!". */
    output: string;
}

const VM_DIR_PARENT = "/var/tmp";
/** Data for random/text writes is produced and written in pieces of this size (bounded memory). */
const PIECE = 64 * 1024 * 1024;
const UNITS: Record<string, number> = { "": 1, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

let nameCounter = 0;
let pieceCounter = 0;
const liveVms = new Set<TestVm>();

/** Converts a Size to bytes ("64M" = 64 MiB, as qemu-img reads it). */
export function parseSize(size: Size): number {
    if (typeof size === "number") {
        if (!Number.isSafeInteger(size) || size < 0)
            throw new Error(`invalid size ${size}`);
        return size;
    }
    const m = /^(\d+)\s*([KMGT]?)(?:i?B)?$/i.exec(size.trim());
    if (!m)
        throw new Error(`invalid size '${size}'`);
    return Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
}

/** A libvirt TCG domain made for one test; remove it with cleanup(). */
export class TestVm {
    /** Domain name. */
    readonly name: string;
    /** Directory holding the images, expected images and domain XML. */
    readonly dir: string;
    /** The disks in target order (vda, vdb, ...). */
    readonly disks: TestDisk[];
    private readonly ownsDir: boolean;
    private readonly extraFiles = new Set<string>();
    private qdevPaths: Map<string, string> | null = null;
    private cleanedUp = false;

    private constructor(name: string, dir: string, ownsDir: boolean, disks: TestDisk[]) {
        this.name = name;
        this.dir = dir;
        this.ownsDir = ownsDir;
        this.disks = disks;
    }

    /** Creates the images, applies the initial writes, defines the domain and (by default) starts it. */
    static async create(opts: TestVmOptions): Promise<TestVm> {
        if (opts.disks.length === 0 || opts.disks.length > 26)
            throw new Error("a TestVm needs 1 to 26 disks");
        const name = opts.name ?? await freeName();
        if (!/^[A-Za-z0-9._-]+$/.test(name))
            throw new Error(`invalid VM name '${name}'`);
        const ownsDir = opts.dir === undefined;
        const dir = opts.dir ?? fs.mkdtempSync(path.join(VM_DIR_PARENT, `${name}-`));
        // mkdtemp makes it 0700; the qemu process (user libvirt-qemu) must be able to reach the images.
        if (ownsDir)
            fs.chmodSync(dir, 0o755);
        const disks = opts.disks.map((spec, i): TestDisk => {
            const dev = `vd${String.fromCharCode(97 + i)}`;
            const format = spec.format ?? "qcow2";
            const file = path.join(dir, `${dev}.${format}`);
            return { dev, path: file, format, size: parseSize(spec.size), expectedPath: `${file}.expected.raw` };
        });
        const vm = new TestVm(name, dir, ownsDir, disks);
        liveVms.add(vm);
        try {
            for (const [i, disk] of disks.entries()) {
                await runOk("qemu-img", ["create", "-q", "-f", disk.format, disk.path, String(disk.size)]);
                createSparse(disk.expectedPath, disk.size);
                for (const w of opts.disks[i]!.writes ?? [])
                    await vm.write(i, w, { offline: true });
            }
            const xmlFile = path.join(dir, "domain.xml");
            fs.writeFileSync(xmlFile, domainXml(name, disks, opts.memoryMiB ?? 64));
            vm.extraFiles.add(xmlFile);
            await virsh(["define", "--file", xmlFile]);
            if (opts.start ?? true)
                await vm.start();
            return vm;
        } catch (e) {
            await vm.cleanup().catch(() => {});
            throw e;
        }
    }

    /**
     * Removes test VMs (vnbt-<pid>-<n>, with their /var/tmp/vnbt-<pid>-<n>-* directories) left behind by
     * test processes that no longer run; for a runner-level setup. Returns the names removed.
     */
    static async removeStale(): Promise<string[]> {
        const removed: string[] = [];
        const isStale = (pid: string | undefined) => pid !== undefined && !processAlive(Number(pid));
        for (const name of (await virsh(["list", "--all", "--name"])).split("\n")) {
            if (isStale(/^vnbt-(\d+)-\d+$/.exec(name)?.[1])) {
                await removeDomain(name);
                removed.push(name);
            }
        }
        // Directories too, also those of a run that died before defining its domain.
        for (const entry of fs.readdirSync(VM_DIR_PARENT)) {
            if (isStale(/^vnbt-(\d+)-\d+-\w{6}$/.exec(entry)?.[1]))
                fs.rmSync(path.join(VM_DIR_PARENT, entry), { recursive: true, force: true });
        }
        return removed;
    }

    /** Cleans up every TestVm of this process not cleaned up yet (for an `after()` hook). */
    static async cleanupAll(): Promise<void> {
        for (const vm of [...liveVms])
            await vm.cleanup();
    }

    /** Path of disk i's expected image. */
    expectedPath(i: number): string {
        return this.disk(i).expectedPath;
    }

    /** virsh domstate of the domain, e.g. "running" or "shut off". */
    async state(): Promise<string> {
        return (await virsh(["domstate", "--domain", this.name])).trim();
    }

    /** True when the domain runs (or is paused: QEMU is there either way). */
    async isActive(): Promise<boolean> {
        const r = await run("virsh", ["-c", LIBVIRT_URI, "domid", "--domain", this.name]);
        return r.code === 0 && /^\d+$/.test(r.stdout.trim());
    }

    /** Starts the domain. */
    async start(): Promise<void> {
        this.qdevPaths = null;
        await virsh(["start", "--domain", this.name]);
    }

    /** Powers the domain off (virsh destroy: no guest OS to shut down cleanly anyway). */
    async shutdown(): Promise<void> {
        this.qdevPaths = null;
        if (await this.isActive())
            await virsh(["destroy", "--domain", this.name]);
    }

    /** pid of the domain's QEMU process, or null when it does not run. */
    qemuPid(): number | null {
        try {
            const pid = Number.parseInt(fs.readFileSync(`/run/libvirt/qemu/${this.name}.pid`, "utf8"), 10);
            return Number.isInteger(pid) && fs.existsSync(`/proc/${pid}`) ? pid : null;
        } catch {
            return null;
        }
    }

    /** Runs an HMP command in the domain's QEMU and returns its output. */
    /** libvirt's checkpoint names of the domain, sorted. */
    async checkpoints(): Promise<string[]> {
        return (await virsh(["checkpoint-list", "--domain", this.name, "--name"])).split("\n").map(s => s.trim()).filter(Boolean).sort();
    }

    /** domjobinfo's "Job type" ("None" when no job runs). */
    async jobType(): Promise<string> {
        return /^Job type:\s*(.+)$/m.exec(await virsh(["domjobinfo", "--domain", this.name]))?.[1]?.trim() ?? "?";
    }

    async hmp(command: string): Promise<string> {
        return virsh(["qemu-monitor-command", "--domain", this.name, "--hmp", command]);
    }

    /** Runs a QMP command ({"execute": ...}) and returns its "return" value. */
    async qmp(command: { execute: string; arguments?: object }): Promise<unknown> {
        const out = await virsh(["qemu-monitor-command", "--domain", this.name, JSON.stringify(command)]);
        return (JSON.parse(out) as { return: unknown }).return;
    }

    /**
     * Writes into disk i — through QEMU while the VM runs (as guest I/O), with qemu-io on the image when it
     * is shut off — and applies the same write to the expected image.
     */
    async write(i: number, w: Write, opts: { offline?: boolean } = {}): Promise<void> {
        const disk = this.disk(i);
        const offset = parseSize(w.offset);
        const length = parseSize(w.length);
        if (offset + length > disk.size)
            throw new Error(`write ${offset}+${length} beyond the end of ${disk.dev} (${disk.size})`);
        const live = !opts.offline && await this.isActive();
        const apply = live ? (cmds: string[]) => this.liveQemuIo(disk, cmds) : (cmds: string[]) => offlineQemuIo(disk, cmds);
        if ("pattern" in w) {
            if (!Number.isInteger(w.pattern) || w.pattern < 0 || w.pattern > 255)
                throw new Error(`pattern must be a byte: ${w.pattern}`);
            // qemu-io allocates a buffer of the whole length: write big ranges piece by piece.
            const cmds: string[] = [];
            for (let done = 0; done < length; done += PIECE)
                cmds.push(`write -P 0x${w.pattern.toString(16)} ${offset + done} ${Math.min(PIECE, length - done)}`);
            await apply(cmds);
            writeExpected(disk, offset, length, n => Buffer.alloc(n, w.pattern));
        } else if ("zero" in w) {
            await apply([`write -z ${offset} ${length}`]);
            await runOk("qemu-io", ["-f", "raw", "-c", `write -q -z ${offset} ${length}`, disk.expectedPath]);
        } else {
            const data = "random" in w ? randomData(w.seed ?? offset) : textData(w.text);
            // qemu-io takes arbitrary data only from a file: one file per piece, bounded size.
            const pieceFile = path.join(this.dir, `.piece-${process.pid}-${++pieceCounter}`);
            try {
                for (let done = 0; done < length; done += PIECE) {
                    const n = Math.min(PIECE, length - done);
                    const buf = data(done, n);
                    fs.writeFileSync(pieceFile, buf, { mode: 0o644 });  // QEMU (libvirt-qemu) reads it for live writes
                    await apply([`write -s ${pieceFile} ${offset + done} ${n}`]);
                    writeExpected(disk, offset + done, n, () => buf);
                }
            } finally {
                fs.rmSync(pieceFile, { force: true });
            }
        }
    }

    /** Compares an image (qcow2 or raw, format probed unless given) with disk i's expected image. */
    async compare(i: number, imagePath: string, opts: { format?: string } = {}): Promise<CompareResult> {
        return compareImages(imagePath, this.expectedPath(i), { format: opts.format });
    }

    /** Copies disk i's expected image as it is now (the state of a restore point); returns the copy's path. */
    async snapshotExpected(i: number, label: string): Promise<string> {
        if (!/^[A-Za-z0-9._-]+$/.test(label))
            throw new Error(`invalid label '${label}'`);
        const disk = this.disk(i);
        const copy = path.join(this.dir, `${disk.dev}.expected.${label}.raw`);
        await runOk("cp", ["--sparse=always", disk.expectedPath, copy]);
        this.extraFiles.add(copy);
        return copy;
    }

    /** Powers off, removes checkpoints and the definition, deletes the files this VM created. Idempotent. */
    async cleanup(): Promise<void> {
        if (this.cleanedUp)
            return;
        this.qdevPaths = null;
        let failure: unknown = null;
        try {
            await removeDomain(this.name);
        } catch (e) {
            failure = e;  // the files go anyway; removeStale() catches a domain left behind
        }
        if (this.ownsDir) {
            fs.rmSync(this.dir, { recursive: true, force: true });
        } else {
            for (const d of this.disks) {
                fs.rmSync(d.path, { force: true });
                fs.rmSync(d.expectedPath, { force: true });
            }
            for (const f of this.extraFiles)
                fs.rmSync(f, { force: true });
        }
        this.cleanedUp = true;
        liveVms.delete(this);
        if (failure)
            throw new Error(`cleanup of ${this.name}: ${(failure as Error).message}`);
    }

    /** The qdev path QEMU's HMP qemu-io needs for disk i, from QMP query-block (matched by image file). */
    async qdevPath(i: number): Promise<string> {
        const disk = this.disk(i);
        if (!this.qdevPaths) {
            const blocks = await this.qmp({ execute: "query-block" }) as { qdev?: string; inserted?: { file?: string } }[];
            this.qdevPaths = new Map();
            for (const b of blocks) {
                if (b.qdev && b.inserted?.file)
                    this.qdevPaths.set(b.inserted.file, b.qdev);
            }
        }
        const qdev = this.qdevPaths.get(disk.path);
        if (!qdev)
            throw new Error(`query-block of ${this.name} does not list ${disk.path}`);
        return qdev;
    }

    /** Runs qemu-io commands inside the VM's QEMU on the disk's guest device (HMP), then flushes. */
    private async liveQemuIo(disk: TestDisk, commands: string[]): Promise<void> {
        const qdev = await this.qdevPath(this.disks.indexOf(disk));
        // qemu-io prints to QEMU's stdout (the domain log), so success is silent here; "Error: ..." (e.g. an
        // unknown device) comes back, but an I/O error only reaches the log: callers check bounds beforehand
        // and the tests compare the data anyway.
        for (const command of commands) {
            const out = await this.hmp(`qemu-io -d ${qdev} "${command.replace(/^write /, "write -q ")}"`);
            if (out.trim() !== "")
                throw new Error(`live ${command} on ${this.name}/${disk.dev} failed: ${out.trim()}`);
        }
        // Push QEMU's cached qcow2 metadata to the file, so readers outside QEMU (qemu-img -U) see the write.
        const flushed = await this.hmp(`qemu-io -d ${qdev} "flush"`);
        if (flushed.trim() !== "")
            throw new Error(`flush of ${this.name}/${disk.dev} failed: ${flushed.trim()}`);
    }

    private disk(i: number): TestDisk {
        const d = this.disks[i];
        if (!d)
            throw new Error(`${this.name} has no disk ${i}`);
        return d;
    }
}

/** Creates a TestVm, runs fn with it, and always cleans it up. */
export async function withTestVm<T>(opts: TestVmOptions, fn: (vm: TestVm) => Promise<T>): Promise<T> {
    const vm = await TestVm.create(opts);
    try {
        return await fn(vm);
    } finally {
        await vm.cleanup();
    }
}

/** qemu-img compare of two images; -U so that an image in use by a running VM can be read. */
export async function compareImages(image: string, expected: string, opts: { format?: string } = {}): Promise<CompareResult> {
    const args = ["compare", "-U", ...(opts.format ? ["-f", opts.format] : []), "-F", "raw", image, expected];
    const r = await run("qemu-img", args);
    const output = (r.stdout + r.stderr).trim();
    if (r.code === 0 || r.code === 1)
        return { identical: r.code === 0, output };
    throw new Error(`qemu-img ${args.join(" ")}: exit ${r.code}: ${output}`);
}

async function virsh(args: string[]): Promise<string> {
    return (await runOk("virsh", ["-c", LIBVIRT_URI, ...args], { env: { LC_ALL: "C" } })).stdout;
}

/** Powers off and undefines a domain with its checkpoint metadata, and deletes its QEMU log; absent is fine. */
async function removeDomain(name: string): Promise<void> {
    if ((await run("virsh", ["-c", LIBVIRT_URI, "domuuid", "--domain", name])).code !== 0)
        return;
    const active = await run("virsh", ["-c", LIBVIRT_URI, "domid", "--domain", name]);
    if (active.code === 0 && /^\d+$/.test(active.stdout.trim()))
        await virsh(["destroy", "--domain", name]);
    const list = await virsh(["checkpoint-list", "--domain", name, "--name", "--topological"]);
    // Children before parents.
    for (const cp of list.split("\n").filter(l => l !== "").reverse())
        await virsh(["checkpoint-delete", "--domain", name, "--checkpointname", cp, "--metadata"]);
    // libvirt refuses to undefine a domain that still has checkpoint/snapshot metadata or nvram.
    await virsh(["undefine", "--domain", name, "--nvram", "--checkpoints-metadata", "--snapshots-metadata"]);
    // libvirt keeps QEMU's log after undefine; it belongs to the test VM too.
    fs.rmSync(`/var/log/libvirt/qemu/${name}.log`, { force: true });
}


/** A domain name vnbt-<pid>-<n> not in use (TestVm.removeStale() knows the pattern). */
export async function freeName(): Promise<string> {
    for (;;) {
        const name = `vnbt-${process.pid}-${++nameCounter}`;
        // A crashed earlier run with a recycled pid may have left a domain of that name behind.
        const r = await run("virsh", ["-c", LIBVIRT_URI, "domuuid", "--domain", name]);
        if (r.code !== 0)
            return name;
    }
}

function domainXml(name: string, disks: TestDisk[], memoryMiB: number): string {
    const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/'/g, "&apos;");
    const diskXml = disks.map(d => `
    <disk type='file' device='disk'>
      <driver name='qemu' type='${d.format}'/>
      <source file='${esc(d.path)}'/>
      <target dev='${d.dev}' bus='virtio'/>
    </disk>`).join("");
    // TCG (type='qemu'): /dev/kvm is not usable here. No OS: SeaBIOS finds nothing to boot and waits,
    // which is all a pull-mode backup needs. No network, graphics, USB or balloon: less to emulate.
    return `<domain type='qemu'>
  <name>${esc(name)}</name>
  <memory unit='MiB'>${memoryMiB}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>${diskXml}
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}

/** Runs qemu-io commands on a disk image that no QEMU has open: one process for all of them. */
async function offlineQemuIo(disk: TestDisk, commands: string[]): Promise<void> {
    const args = commands.flatMap(c => ["-c", c.replace(/^write /, "write -q ")]);
    await runOk("qemu-io", ["-f", disk.format, ...args, disk.path]);
}

function createSparse(file: string, size: number): void {
    const fd = fs.openSync(file, "w");
    try {
        fs.ftruncateSync(fd, size);
    } finally {
        fs.closeSync(fd);
    }
}

/** Writes length bytes at offset into the expected image; piece(n) makes n bytes (called per 64 MiB piece). */
function writeExpected(disk: TestDisk, offset: number, length: number, piece: (n: number) => Buffer): void {
    const fd = fs.openSync(disk.expectedPath, "r+");
    try {
        for (let done = 0; done < length;) {
            const n = Math.min(PIECE, length - done);
            const buf = piece(n);
            fs.writeSync(fd, buf, 0, n, offset + done);
            done += n;
        }
    } finally {
        fs.closeSync(fd);
    }
}

/** Deterministic incompressible bytes: the AES-128-CTR keystream of a key made from the seed. */
function randomData(seed: number): (start: number, n: number) => Buffer {
    const key = createHash("sha256").update(`vnbt-random-${seed}`).digest().subarray(0, 16);
    return (start, n) => {
        // start is a multiple of PIECE, hence of the 16-byte AES block: the counter says where we are.
        const iv = Buffer.alloc(16);
        iv.writeBigUInt64BE(BigInt(start / 16), 8);
        const cipher = createCipheriv("aes-128-ctr", key, iv);
        return Buffer.concat([cipher.update(Buffer.alloc(n)), cipher.final()]);
    };
}

/** The text repeated, continuing where the previous piece stopped. */
function textData(text: string): (start: number, n: number) => Buffer {
    const unit = Buffer.from(text, "utf8");
    if (unit.length === 0)
        throw new Error("text write with empty text");
    return (start, n) => {
        const buf = Buffer.alloc(n);
        const phase = start % unit.length;
        for (let i = 0; i < n;) {
            const from = i === 0 ? phase : 0;
            i += unit.copy(buf, i, from);
        }
        return buf;
    };
}
