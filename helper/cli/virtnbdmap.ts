// SPDX-License-Identifier: GPL-3.0-or-later
// `virtnbdmap`: serves the disks of a restore point read-only over NBD on unix sockets, without restoring
// them, until Ctrl-C (SIGINT), SIGTERM or SIGHUP. Prints each disk's NBD URI (or, with --json, one JSON
// line). Exit 0 after a clean stop; on failure one line on stderr and exit 1.
import path from "node:path";
import { Command } from "commander";
import { ChainError } from "../restore/chain.ts";
import { mapPoint, type MapRequest } from "../map/map-point.ts";
import { describeMapping, waitForStop } from "./map-session.ts";
import { printJson, reportFailure } from "./cli-run.ts";
import { VERSION } from "./version.ts";

const program = new Command("virtnbdmap")
    .description("Serve a restore point's disks read-only over NBD (unix sockets), without restoring them")
    .option("-i, --input <dir>", "backup folder (a chain: the VM folder or its chain-N subfolder)")
    .option("-f, --file <files>", "as the Python virtnbdmap: the data files of one disk to map, in order (comma separated)")
    .option("-u, --until <checkpoint>", "the restore point: checkpoint (virtnbdbackup.N), data file or diff ident; default the newest")
    .option("--disk <dev>", "map only this disk (target dev, e.g. vda)")
    .option("--verify", "check every file's .chksum (where there is one) before serving (reads the whole chain once)")
    .option("-n, --noprogress", "accepted for compatibility (nothing is copied, so there is no progress)")
    .option("--json", "print the mapping as one JSON line on stdout")
    .version(VERSION, "-V, --version")
    .addHelpText("after", `
Each disk is served by nbdkit on a socket in a root-only folder under /run/virtnbdbackup/maps; read it with
qemu-img, nbdcopy, nbdinfo or nbdfuse, e.g.:
  qemu-img convert -O qcow2 'nbd+unix:///?socket=/run/virtnbdbackup/maps/<id>/vda.sock' vda.qcow2
  qemu-nbd --connect=/dev/nbd0 --read-only --format=raw 'nbd+unix:///?socket=...'   (a block device)`)
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str.trim().split("\n")[0] + "\n") });

interface Flags {
    input?: string;
    file?: string;
    until?: string;
    disk?: string;
    verify?: boolean;
    json?: boolean;
}

/** -i or -f (never both) as a map request. */
export function requestOf(flags: Flags): MapRequest {
    if (flags.file !== undefined) {
        if (flags.input !== undefined || flags.until !== undefined)
            throw new Error("-f names the files to map: give it without -i and -u");
        const files = flags.file.split(",").map(s => s.trim()).filter(Boolean);
        const dirs = new Set(files.map(f => path.dirname(path.resolve(f))));
        if (files.length === 0 || dirs.size !== 1)
            throw new Error("-f needs data files of one folder, comma separated");
        return { folder: [...dirs][0], sequence: files.map(f => path.basename(f)), disk: flags.disk, verifyChecksums: flags.verify };
    }
    if (flags.input === undefined)
        throw new Error("give the backup folder (-i) or the files to map (-f)");
    return { folder: flags.input, until: flags.until, disk: flags.disk, verifyChecksums: flags.verify };
}

async function main(): Promise<void> {
    program.parse();
    const flags = program.opts<Flags>();
    const mapping = await mapPoint(requestOf(flags));
    const stopped = waitForStop(mapping);
    for (const warning of flags.json ? [] : mapping.warnings)
        process.stderr.write(`warning: ${warning}\n`);
    if (flags.json) {
        printJson(describeMapping(mapping));
    } else {
        process.stdout.write(`restore point ${mapping.point} (${mapping.checkpoint}), read-only:\n`);
        for (const d of mapping.disks)
            process.stdout.write(`${d.dev}: ${d.uri}  (${d.size} bytes, ${d.files.join(" + ")})\n`);
        process.stdout.write("Press Ctrl+C to stop\n");
    }
    await stopped;
    await mapping.stop();
}

main().catch(err => {
    reportFailure("virtnbdmap", err, process.argv.includes("--json"), err instanceof ChainError && err.file ? { file: err.file } : {});
});
