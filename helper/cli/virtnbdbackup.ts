// SPDX-License-Identifier: GPL-3.0-or-later
// `virtnbdbackup`: the backup CLI, with the flags and meaning of the Python tool of the same name,
// plus --json (one event per line on stdout) for the Cockpit UI.
import { Command, InvalidArgumentError, Option } from "commander";
import type { BackupEvent, BackupResult } from "../backup/backup.ts";
import { fetchDefinition } from "../backup/definition.ts";
import { closeVirshSession, openVirshSession } from "../libvirt/virsh.ts";
import { REQUESTED_LEVELS, type RequestedLevel } from "../protocol/levels.ts";
import { CliRun, printJson, reportFailure } from "./cli-run.ts";
import { Syslog } from "./syslog.ts";
import { eventLine } from "../jobs/job-log.ts";
import { VERSION } from "./version.ts";
import { parseUri } from "./commands/args.ts";

function list(value: string): string[] {
    return value.split(",").map(s => s.trim()).filter(Boolean);
}

function positiveInt(value: string): number {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1)
        throw new InvalidArgumentError("expected a whole number of 1 or more");
    return n;
}

function byteCount(value: string): number {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
        throw new InvalidArgumentError("expected a number of bytes");
    return n;
}

function compressLevel(value: string): number {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 0 || n > 16)
        throw new InvalidArgumentError("expected an lz4 level from 0 to 16");
    return n;
}

const program = new Command("virtnbdbackup")
    .description("Back up libvirt/QEMU virtual machines: full, incremental and differential, thin, virtnbdbackup-compatible")
    .requiredOption("-d, --domain <name>", "domain to back up")
    .addOption(new Option("-l, --level <level>", "backup level").choices(REQUESTED_LEVELS).default("copy"))
    .addOption(new Option("-t, --type <type>", "output type").choices(["stream", "raw"]).default("stream"))
    // Required, except with -k (checked in main: commander has no conditional requirement).
    .option("-o, --output <dir>", "target folder")
    .option("-z, --compress [level]", "compress with lz4 (level, default 2)", compressLevel)
    .option("-q, --qemu", "take extents from qemu tools (nbdinfo --map) instead of libnbd block status")
    .option("-x, --exclude <disks>", "disks to leave out, comma separated (vda,vdb)", list)
    .option("-i, --include <disks>", "back up only these disks, comma separated", list)
    .option("-r, --raw", "also copy raw-format disks, in full (full/copy levels only)")
    .option("-S, --start-domain", "start a shut-off domain paused for a full backup, and stop it after")
    .option("-w, --worker <n>", "disks copied at once (default: all)", positiveInt)
    .option("--scratchdir <dir>", "folder for libvirt's scratch files during the job", "/var/tmp")
    .option("-F, --freeze-mountpoint <list>", "guest mount points to freeze, comma separated (default: all)", list)
    .option("-n, --noprogress", "no progress bar")
    .option("-e, --strict", "exit with code 2 when the backup succeeded with warnings")
    .option("-T, --threshold <bytes>", "inc/diff: back up only when libvirt estimates at least this many bytes changed since the last checkpoint", byteCount)
    .option("-p, --printonly", "inc/diff: print libvirt's estimate of the bytes changed since the last checkpoint, back up nothing")
    .option("-k, --killonly", "end a backup job left running on the domain, back up nothing")
    .option("-L, --syslog", "also send the messages to syslog")
    .option("-U, --uri <uri>", "libvirt connection URI", parseUri, "qemu:///system")
    .option("-v, --verbose", "print every step")
    .option("--json", "machine-readable events, one JSON object per line on stdout")
    .version(VERSION, "-V, --version")
    // Usage errors: one line, like every other failure.
    .configureOutput({ outputError: (str, write) => write(`${str.trim().split("\n")[0]} (see --help)\n`) });

interface Flags {
    domain: string;
    level: RequestedLevel;
    type: "stream" | "raw";
    output?: string;
    compress?: number | true;
    qemu?: boolean;
    exclude?: string[];
    include?: string[];
    raw?: boolean;
    startDomain?: boolean;
    worker?: number;
    scratchdir: string;
    freezeMountpoint?: string[];
    noprogress?: boolean;
    uri: string;
    verbose?: boolean;
    json?: boolean;
    strict?: boolean;
    threshold?: number;
    printonly?: boolean;
    killonly?: boolean;
    syslog?: boolean;
}

/** What a run that made no backup tells the user (-p, -T). */
function skippedLine(r: BackupResult, threshold: number | undefined): string {
    if (threshold === undefined)
        return `${r.changedBytes} bytes changed since ${r.parent} (libvirt's estimate)\n`;
    return `no backup: ${r.changedBytes} bytes changed since ${r.parent} (libvirt's estimate), fewer than the threshold of ${threshold}\n`;
}

async function main() {
    program.parse();
    const flags = program.opts<Flags>();
    if (!flags.killonly && !flags.output)
        program.error("error: required option '-o, --output <dir>' not specified");
    // The Python tool writes a zip archive of the backup to stdout for "-o -"; we do not (yet): refused, not
    // taken as a folder named "-".
    if (flags.output === "-")
        program.error("error: -o - (a zip archive of the backup on stdout) is not supported: give a target folder");

    const syslog = flags.syslog
        ? new Syslog("virtnbdbackup", why => process.stderr.write(`warning: syslog is not available, messages go to the terminal only: ${why}\n`))
        : undefined;
    try {
        await run(flags, syslog);
    } finally {
        await syslog?.close();
    }
}

/** Messages for syslog: what the terminal shows in verbose mode, without progress. */
function syslogEvent(syslog: Syslog, e: BackupEvent): void {
    const line = eventLine("backup", e);
    if (line)
        syslog.write(line.priority, line.message);
}

async function run(flags: Flags, syslog: Syslog | undefined) {
    const cli = new CliRun({ name: "virtnbdbackup", json: Boolean(flags.json), progress: !flags.noprogress && !flags.printonly });

    if (flags.killonly)
        return killOnly(flags, syslog);
    // Every run pays for its start: the VM's definition is asked for first, and the engine (native modules
    // included) loads while virsh answers; the run's libvirt calls share one virsh shell and connection.
    openVirshSession(flags.uri);
    const definition = fetchDefinition(flags.domain, flags.uri);
    definition.catch(() => {});  // the run reports it
    const { runBackup } = await import("../backup/backup.ts");
    let warnings = 0;
    const print = (e: BackupEvent) => {
        if (e.event === "warning")
            warnings++;
        if (syslog)
            syslogEvent(syslog, e);
        if (cli.jsonEvent(e))
            return;
        if (e.event === "progress")
            cli.progress(e.dev, e.done, e.total);
        else if (e.event === "warning")
            cli.warn(e.message);
        else if (flags.verbose && e.event === "info")
            cli.say(e.message);
        else if (flags.verbose && e.event === "disk")
            cli.say(`${e.dev}: ${e.total} bytes to copy into ${e.file}`);
    };
    try {
        const result = await runBackup({
            domain: flags.domain,
            definition,
            uri: flags.uri,
            level: flags.level,
            type: flags.type,
            output: flags.output!,
            compress: flags.compress === undefined ? false : flags.compress === true ? 2 : flags.compress,
            qemuExtents: flags.qemu,
            include: flags.include,
            exclude: flags.exclude,
            raw: flags.raw,
            startDomain: flags.startDomain,
            workers: flags.worker,
            scratchDir: flags.scratchdir,
            freezeMountpoints: flags.freezeMountpoint,
            threshold: flags.threshold,
            estimateOnly: flags.printonly,
            signal: cli.signal,
            onEvent: print,
        });
        cli.endProgress();
        const done = result.skipped ? skippedLine(result, flags.printonly ? undefined : flags.threshold)
            : `${result.level} backup of ${result.domain} done in ${result.seconds.toFixed(1)} s: ${result.files.join(", ")}\n`;
        syslog?.write("info", done.trim());
        if (cli.json)
            printJson({ event: "result", ...result });
        else if (result.skipped)
            process.stdout.write(done);
        else if (!flags.noprogress || flags.verbose)
            process.stderr.write(done);
        if (flags.strict && warnings > 0 && !result.skipped) {
            cli.say(`virtnbdbackup: finished with ${warnings} warning${warnings > 1 ? "s" : ""}: exit code 2 (--strict)`);
            process.exitCode = 2;
        }
    } catch (err) {
        const message = cli.fail(err);
        syslog?.write("err", `backup of ${flags.domain} failed: ${message}`);
    } finally {
        closeVirshSession();
    }
}

async function killOnly(flags: Flags, syslog: Syslog | undefined) {
    const { endBackupJob } = await import("../backup/end-job.ts");
    try {
        const ended = await endBackupJob(flags.domain, flags.uri);
        const line = ended.outcome === "none" ? `no backup job is running on ${flags.domain}`
            : ended.ours ? `ended the backup job of ${flags.domain} (left by a run of this tool)`
                : `ended the backup job of ${flags.domain}, started by another program${ended.socket ? ` (its NBD socket: ${ended.socket})` : ""}`;
        process.stdout.write(`${line}\n`);
        syslog?.write("info", line);
    } catch (err) {
        // One line on stderr, no JSON: -k prints its answer as text.
        const message = reportFailure("virtnbdbackup", err, false);
        syslog?.write("err", message);
    }
}

void main();
