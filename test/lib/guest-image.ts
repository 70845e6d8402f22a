// SPDX-License-Identifier: GPL-3.0-or-later
// A small real Debian 12 guest for tests, built once and cached: debootstrap from the host's own apt
// mirror, qemu-guest-agent, a unit that prints a marker on the serial console when the system is up.
// Disk vda: qcow2, MBR partition table, one ext4 partition holding the root file system.
// Disk vdb: qcow2, xfs on the whole disk (no partition table), holding known files.
// Boot: Debian's own kernel and initrd (from linux-image-amd64 in the root fs), loaded directly by QEMU.
//
// The cache folder's name carries a hash of the recipe below: changing the recipe builds a new image,
// an unchanged one is reused. Building needs root, debootstrap, sfdisk, mkfs.ext4, mkfs.xfs and a loop device.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { run, runOk } from "./exec.ts";

export const GUEST_CACHE = "/var/cache/cockpit-virtnbdbackup-tests";

/** The line the guest writes on its serial console once it is up (agent started, file systems mounted). */
export const GUEST_READY_MARKER = "VNBT-GUEST-READY";

/** Known files of the image: guest path -> content. Symlinks are listed apart. */
export const GUEST_FILES: Record<string, string> = {
    "/srv/files/hello.txt": "hello from the guest\n",
    "/srv/files/nested/deeper/notes.txt": "line one\nline two\n",
    "/data/readme.txt": "a file on the xfs data disk\n",
    "/data/sub/numbers.txt": Array.from({ length: 1000 }, (_, i) => `${i}`).join("\n") + "\n",
};

/** Symlinks in the image: guest path -> target. They point out of the guest's file system on purpose. */
export const GUEST_SYMLINKS: Record<string, string> = {
    "/srv/files/shadow-link": "/etc/shadow",
    "/srv/files/escape-link": "../../../../../../etc/shadow",
    "/data/host-root": "/",
    "/data/shadow-link": "/etc/shadow",
};

/** A line of the guest's /etc/shadow that the host's never has: tells whose shadow a reader got. */
export const GUEST_SHADOW_MARKER = "vnbt-guest-marker:!:19000:0:99999:7:::";

/** A file of random bytes in the image (its sha256 is in GuestImage.randomSha256). */
export const GUEST_RANDOM_FILE = "/srv/files/random.bin";
const RANDOM_SIZE = 3 * 1024 * 1024 + 123;

const PACKAGES = ["systemd", "systemd-sysv", "udev", "qemu-guest-agent", "linux-image-amd64", "initramfs-tools"];
const ROOT_PARTITION_START = 1024 * 1024;
const ROOT_FREE_MIB = 192;
const DATA_SIZE_MIB = 320;  // xfs needs 300 MB at least

// Only the modules this guest needs in its initrd: a small initrd is a fast boot under TCG.
const INITRAMFS_MODULES = ["virtio_pci", "virtio_blk", "ext4", "crc32c_generic"];

const READY_UNIT = `[Unit]
Description=Tell the test that the guest is up
After=qemu-guest-agent.service local-fs.target
Wants=qemu-guest-agent.service
RequiresMountsFor=/data

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo ${GUEST_READY_MARKER} > /dev/ttyS0'

[Install]
WantedBy=multi-user.target
`;

const FSTAB = `/dev/vda1 / ext4 defaults,errors=remount-ro 0 1
/dev/vdb /data xfs defaults,nofail,x-systemd.device-timeout=20s 0 0
`;

// Units a test guest does not need; masking them shortens the boot.
const MASKED_UNITS = [
    "serial-getty@ttyS0.service", "getty@tty1.service", "getty-static.service",
    "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "e2scrub_reap.service",
    "fstrim.timer", "dpkg-db-backup.timer", "systemd-timesyncd.service", "systemd-update-utmp.service",
    "systemd-update-utmp-runlevel.service", "modprobe@drm.service", "systemd-journal-flush.service",
    "systemd-random-seed.service", "dev-hugepages.mount", "dev-mqueue.mount", "sys-kernel-debug.mount",
    "sys-kernel-tracing.mount", "modprobe@dm_mod.service", "modprobe@efi_pstore.service", "kmod-static-nodes.service",
];

/** Everything that makes the image: its hash names the cache folder. */
const RECIPE = JSON.stringify({
    version: 1, PACKAGES, ROOT_FREE_MIB, DATA_SIZE_MIB, INITRAMFS_MODULES, READY_UNIT, FSTAB, MASKED_UNITS,
    GUEST_FILES, GUEST_SYMLINKS, GUEST_RANDOM_FILE, RANDOM_SIZE, GUEST_SHADOW_MARKER,
});

/** The built image: files under the cache folder, never written by tests (copy the disks first). */
export interface GuestImage {
    dir: string;
    rootDisk: string;
    dataDisk: string;
    kernel: string;
    initrd: string;
    /** Kernel command line for direct boot. */
    cmdline: string;
    randomSha256: string;
    /** Seconds the build took (0 when it came from the cache). */
    buildSeconds: number;
}

interface Manifest { randomSha256: string; buildSeconds: number }

/** The cached guest image, built first when the recipe is new. */
export async function guestImage(): Promise<GuestImage> {
    const hash = createHash("sha256").update(RECIPE).digest("hex").slice(0, 12);
    const dir = path.join(GUEST_CACHE, `guest-${hash}`);
    let fresh = false;
    if (!fs.existsSync(path.join(dir, "manifest.json"))) {
        await build(dir);
        fresh = true;
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as Manifest;
    return {
        dir,
        rootDisk: path.join(dir, "root.qcow2"),
        dataDisk: path.join(dir, "data.qcow2"),
        kernel: path.join(dir, "vmlinuz"),
        initrd: path.join(dir, "initrd.img"),
        cmdline: "root=/dev/vda1 rootfstype=ext4 ro console=ttyS0 quiet loglevel=3 systemd.show_status=0 "
            + "no_timer_check tsc=unstable fsck.mode=skip modprobe.blacklist=kvm,kvm_amd,kvm_intel,floppy,pcspkr,serio_raw,evdev,i2c_piix4,efi_pstore",
        randomSha256: manifest.randomSha256,
        buildSeconds: fresh ? manifest.buildSeconds : 0,
    };
}

/** The host's Debian mirror, from its apt sources (deb822 or one-line format). */
export function hostMirror(): string {
    const deb822 = "/etc/apt/sources.list.d/debian.sources";
    if (fs.existsSync(deb822)) {
        for (const stanza of fs.readFileSync(deb822, "utf8").split(/\n\s*\n/)) {
            const uris = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
            if (uris && /^Suites:.*\bbookworm\b(?!-)/m.test(stanza))
                return uris;
        }
    }
    const list = fs.existsSync("/etc/apt/sources.list") ? fs.readFileSync("/etc/apt/sources.list", "utf8") : "";
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(list);
    if (m)
        return m[1]!;
    throw new Error("no bookworm mirror in the host's apt sources");
}

async function build(dir: string): Promise<void> {
    const started = Date.now();
    fs.mkdirSync(GUEST_CACHE, { recursive: true, mode: 0o755 });
    const work = fs.mkdtempSync(`${dir}.build-`);
    try {
        const rootfs = path.join(work, "rootfs");
        await runOk("debootstrap", ["--variant=minbase", `--include=${PACKAGES.join(",")}`, "bookworm", rootfs, hostMirror()],
            { timeoutMs: 30 * 60_000 });
        configure(rootfs);
        const randomSha256 = writeKnownFiles(rootfs, path.join(work, "data"));
        await chroot(rootfs, ["systemctl", "enable", "vnbt-ready.service"]);
        await chroot(rootfs, ["systemctl", "mask", ...MASKED_UNITS]);
        await chroot(rootfs, ["update-initramfs", "-u", "-k", "all"]);
        const bootFile = (prefix: string) => {
            const f = fs.readdirSync(path.join(rootfs, "boot")).find(n => n.startsWith(prefix));
            if (!f)
                throw new Error(`no /boot/${prefix}* in the guest's root fs`);
            return path.join(rootfs, "boot", f);
        };
        fs.copyFileSync(bootFile("vmlinuz-"), path.join(work, "vmlinuz"));
        fs.copyFileSync(bootFile("initrd.img-"), path.join(work, "initrd.img"));
        shrink(rootfs);
        await rootDisk(rootfs, path.join(work, "root.qcow2"));
        await dataDisk(path.join(work, "data"), path.join(work, "data.qcow2"));
        fs.rmSync(rootfs, { recursive: true, force: true });
        fs.rmSync(path.join(work, "data"), { recursive: true, force: true });
        const manifest: Manifest = { randomSha256, buildSeconds: Math.round((Date.now() - started) / 1000) };
        fs.writeFileSync(path.join(work, "manifest.json"), JSON.stringify(manifest));
        for (const f of fs.readdirSync(work))
            fs.chmodSync(path.join(work, f), 0o644);
        fs.chmodSync(work, 0o755);
        fs.renameSync(work, dir);
        // Images of older recipes are never used again.
        for (const old of fs.readdirSync(GUEST_CACHE)) {
            if (/^guest-[0-9a-f]{12}$/.test(old) && path.join(GUEST_CACHE, old) !== dir)
                fs.rmSync(path.join(GUEST_CACHE, old), { recursive: true, force: true });
        }
    } catch (e) {
        await removeBuildDir(work);
        throw e;
    }
}

/**
 * Removes a failed build: first whatever is still mounted in it (debootstrap's /proc and /sys when it was
 * stopped, the data disk's loop mount), never crossing into another file system.
 */
async function removeBuildDir(work: string): Promise<void> {
    const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")
            .map(l => l.split(" ")[4] ?? "").filter(m => m.startsWith(`${work}/`))
            .sort((a, b) => b.length - a.length);
    for (const m of mounts)
        await run("umount", ["-l", m]);
    await run("rm", ["-rf", "--one-file-system", work]);
}

function configure(rootfs: string): void {
    const put = (file: string, text: string, mode = 0o644) => {
        const abs = path.join(rootfs, file);
        fs.mkdirSync(path.dirname(abs), { recursive: true });
        fs.writeFileSync(abs, text, { mode });
    };
    put("etc/hostname", "vnbt-guest\n");
    // A fixed machine id: no first-boot setup in a guest booted from a fresh copy every time.
    put("etc/machine-id", "5d1f7c3a9e2b4c6d8f0a1b2c3d4e5f60\n", 0o444);
    put("etc/fstab", FSTAB);
    put("etc/systemd/system/vnbt-ready.service", READY_UNIT);
    put("etc/initramfs-tools/conf.d/vnbt.conf", "MODULES=list\nCOMPRESS=gzip\n");
    put("etc/initramfs-tools/modules", INITRAMFS_MODULES.join("\n") + "\n");
    // The journal in memory only: nothing to flush at boot, fewer writes to freeze.
    put("etc/systemd/journald.conf.d/vnbt.conf", "[Journal]\nStorage=volatile\n");
    fs.mkdirSync(path.join(rootfs, "data"), { recursive: true });
}

/** Writes the known files (root fs ones into rootfs, /data ones into dataDir); returns the random file's sha256. */
function writeKnownFiles(rootfs: string, dataDir: string): string {
    const hostPath = (guestPath: string) => guestPath.startsWith("/data/")
        ? path.join(dataDir, guestPath.slice("/data/".length))
        : path.join(rootfs, guestPath);
    fs.mkdirSync(dataDir, { recursive: true });
    for (const [p, content] of Object.entries(GUEST_FILES)) {
        fs.mkdirSync(path.dirname(hostPath(p)), { recursive: true });
        fs.writeFileSync(hostPath(p), content, { mode: 0o644 });
    }
    for (const [p, target] of Object.entries(GUEST_SYMLINKS))
        fs.symlinkSync(target, hostPath(p));
    const random = Buffer.alloc(RANDOM_SIZE);
    let state = createHash("sha256").update("vnbt-guest-random").digest();
    for (let i = 0; i < RANDOM_SIZE; i += state.length) {
        state.copy(random, i);
        state = createHash("sha256").update(state).digest();
    }
    fs.writeFileSync(hostPath(GUEST_RANDOM_FILE), random, { mode: 0o644 });
    fs.appendFileSync(path.join(rootfs, "etc/shadow"), `${GUEST_SHADOW_MARKER}\n`);
    return createHash("sha256").update(random).digest("hex");
}

/** Leaves out what a test guest never reads (documentation, locales, apt lists). */
function shrink(rootfs: string): void {
    for (const d of ["usr/share/doc", "usr/share/man", "usr/share/locale", "usr/share/info", "var/lib/apt/lists",
        "var/cache/apt", "usr/share/zoneinfo"]) {
        fs.rmSync(path.join(rootfs, d), { recursive: true, force: true });
        fs.mkdirSync(path.join(rootfs, d), { recursive: true });
    }
    for (const f of fs.readdirSync(path.join(rootfs, "boot")))
        fs.rmSync(path.join(rootfs, "boot", f), { recursive: true, force: true });
}

async function chroot(rootfs: string, argv: string[]): Promise<void> {
    await runOk("chroot", [rootfs, ...argv], { env: { DEBIAN_FRONTEND: "noninteractive", LC_ALL: "C" }, timeoutMs: 10 * 60_000 });
}

/** MBR with one ext4 partition from 1 MiB, filled from rootfs by mke2fs -d (no mount needed). */
async function rootDisk(rootfs: string, qcow2: string): Promise<void> {
    const used = Number((await runOk("du", ["-s", "-B1M", rootfs])).stdout.split(/\s/)[0]);
    const partMiB = Math.ceil((used * 1.2 + ROOT_FREE_MIB) / 64) * 64;
    const raw = `${qcow2}.raw`;
    fs.writeFileSync(raw, "");
    fs.truncateSync(raw, ROOT_PARTITION_START + partMiB * 1024 * 1024);
    await runOk("sfdisk", ["--quiet", raw], { input: `label: dos\nstart=2048, type=83\n` });
    await runOk("mke2fs", ["-q", "-t", "ext4", "-L", "vnbt-root", "-E", `offset=${ROOT_PARTITION_START}`, "-d", rootfs,
        raw, `${partMiB}M`]);
    await runOk("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, qcow2]);
    fs.rmSync(raw);
}

/** xfs on the whole disk, filled from dataDir through a loop mount. */
async function dataDisk(dataDir: string, qcow2: string): Promise<void> {
    const raw = `${qcow2}.raw`;
    const mnt = path.join(path.dirname(qcow2), "mnt");
    fs.writeFileSync(raw, "");
    fs.truncateSync(raw, DATA_SIZE_MIB * 1024 * 1024);
    await runOk("mkfs.xfs", ["-q", "-L", "vnbt-data", raw]);
    fs.mkdirSync(mnt);
    await runOk("mount", ["-o", "loop", raw, mnt]);
    try {
        await runOk("cp", ["-a", `${dataDir}/.`, mnt]);
    } finally {
        await runOk("umount", [mnt]);
    }
    fs.rmdirSync(mnt);
    await runOk("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, qcow2]);
    fs.rmSync(raw);
}
