// SPDX-License-Identifier: GPL-3.0-or-later
// `virtnbdrestore`: restore, verify or dump a virtnbdbackup backup folder, with the Python tool's flags,
// plus --json (one event per line on stdout) for the Cockpit UI. Exit 0 on success; on failure one line
// on stderr and exit 1.
import fs from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { ChainError } from "../restore/chain.ts";
import { runRestore, type RestoreEvent } from "../restore/restore.ts";
import { UndoStack } from "../run/undo-stack.ts";
import { runDump, runVerify } from "../restore/verify.ts";
import { CliRun, printJson, reportFailure } from "./cli-run.ts";
import { VERSION } from "./version.ts";
import { parseUri } from "./commands/args.ts";
import { openAppend } from "../fs/safe-open.ts";
import { resolveTrustedFolder } from "../fs/trusted-folder.ts";

const program = new Command("virtnbdrestore")
    .description("Restore, verify or dump virtnbdbackup backups (also those of the Python virtnbdbackup)")
    .requiredOption("-i, --input <dir>", "backup folder")
    .option("-o, --output <dir>", "restore target folder (required for restore; \"dump\" means --action dump)")
    .addOption(new Option("-a, --action <action>", "what to do").choices(["restore", "verify", "dump"]).default("restore"))
    .option("-u, --until <checkpoint>", "restore up to this checkpoint (virtnbdbackup.N), data file or diff ident")
    .option("-s, --sequence <files>", "restore exactly these files of one disk, in order (comma separated)")
    .option("-d, --disk <dev>", "process only this disk (target dev, e.g. vda)")
    .option("-c, --adjust-config", "write an adjusted domain config for the restored VM")
    .option("-D, --define", "define the restored VM in libvirt (implies -c)")
    .option("-N, --name <name>", "name of the restored VM (default restore_<vm>)")
    .option("-r, --raw", "restore raw-format disks' raw images (<dev>.copy.data) as they are, sparse")
    .option("-f, --socketfile <file>", "accepted for compatibility and ignored: each disk gets its own qemu-nbd socket in a private directory")
    .option("-L, --logfile <file>", "append the run's events to this file, one timestamped JSON line each")
    .option("-U, --uri <uri>", "libvirt connection URI for --define", parseUri, "qemu:///system")
    .option("-n, --noprogress", "no progress bar")
    .option("-v, --verbose", "print every step")
    .option("--json", "machine-readable events, one JSON object per line on stdout")
    .version(VERSION, "-V, --version")
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str.trim().split("\n")[0] + "\n") });

interface Flags {
    input: string;
    output?: string;
    action: "restore" | "verify" | "dump";
    until?: string;
    sequence?: string;
    disk?: string;
    adjustConfig?: boolean;
    define?: boolean;
    name?: string;
    raw?: boolean;
    socketfile?: string;
    logfile?: string;
    uri: string;
    noprogress?: boolean;
    verbose?: boolean;
    json?: boolean;
}

/** -L: one `<ISO time> <JSON>` line per event, appended, as the backup's log has them. */
let logLine: (value: object) => void = () => {};

/** -L: appended to in a trusted folder (helper/fs/trusted-folder.ts), never through a symlink. */
function openLog(file: string): void {
    const folder = resolveTrustedFolder(path.dirname(path.resolve(file)), "a log file's folder");
    if (folder.missing.length)
        throw new Error(`the folder of the log file ${file} does not exist`);
    const fd = openAppend(path.join(folder.folder, path.basename(file)));
    logLine = value => {
        try {
            fs.writeSync(fd, `${new Date().toISOString()} ${JSON.stringify(value)}\n`);
        } catch {
            // a full disk must not fail the restore through its log
        }
    };
}

function sequenceOf(flags: Flags): string[] | undefined {
    return flags.sequence?.split(",").map(s => s.trim()).filter(Boolean);
}

/** The restore run's undo stack, reached from the forced exit of a second signal. */
const restoreUndo = new UndoStack();

/** Set once the flags are read: where the run's output goes. */
let cli: CliRun | undefined;

async function main(): Promise<void> {
    program.parse();
    const flags = program.opts<Flags>();
    if (flags.logfile)
        openLog(flags.logfile);
    logLine({ event: "start", argv: process.argv.slice(2) });
    const action = flags.output === "dump" ? "dump" : flags.action;
    // Signals and a closed stdout/stderr cancel; a second signal: no more waiting for requests in flight.
    cli = new CliRun({
        name: "virtnbdrestore", json: Boolean(flags.json), progress: !flags.noprogress,
        // Progress at most every 100 ms per process, plus each file's start and the end.
        jsonProgressMs: 100,
        // What the restore made so far (partial images, mappings, staged files) goes at once.
        beforeForcedExit: () => restoreUndo.undoNow(),
    });
    const { signal } = cli;
    const run = cli;

    if (action === "dump") {
        const entries = await runDump(flags.input, { disk: flags.disk });
        if (flags.json)
            printJson({ event: "result", action, files: entries });
        else
            process.stdout.write(JSON.stringify(entries.map(e => e.meta ?? { file: e.file, error: e.error }), null, 4) + "\n");
        if (entries.some(e => e.error))
            process.exitCode = 1;
        return;
    }

    if (action === "verify") {
        const result = await runVerify({
            input: flags.input,
            until: flags.until,
            sequence: sequenceOf(flags),
            disk: flags.disk,
            raw: flags.raw,
        }, {
            signal,
            onEntry: e => {
                if (!run.jsonEvent({ event: "verify", ...e }))
                    run.say(`${e.ok ? "OK  " : "FAIL"} ${e.file}: frames ${e.frames}, checksum ${e.checksum}` +
                        `${e.lz4 !== undefined ? `, lz4 ${e.lz4}` : ""}${e.unchecked ? ` (${e.unchecked})` : ""}`);
            },
        });
        if (flags.json)
            printJson({ event: "result", action, ok: result.ok, files: result.files, problems: result.problems });
        else if (result.problems.length > 1)
            for (const p of result.problems)
                run.say(`FAIL restore point ${p.point}: ${p.reason}`);
        if (result.message !== null)
            throw new ChainError(result.message);
        return;
    }

    if (!flags.output)
        throw new Error("restore needs -o/--output");
    const onEvent = (e: RestoreEvent) => {
        if (e.event !== "progress")
            logLine(e);
        if (run.jsonEvent(e))
            return;
        if (e.event === "progress")
            run.progress(e.disk, e.done, e.total);
        else if (e.event === "warning")
            run.warn(e.message);
        else if (flags.verbose && e.event === "plan")
            for (const d of e.disks)
                run.say(`${d.disk}: ${d.files.join(" + ")} -> ${d.output} (${d.total} data bytes)`);
        else if (flags.verbose && e.event === "disk")
            run.say(`${e.disk}: restored to ${e.output}`);
        else if (flags.verbose && e.event === "boot-file")
            run.say(`${e.kind} ${e.configured}: ${e.status === "restored" ? `restored from ${e.saved} to ${e.output}` : e.status === "exists" ? "exists, left as it is" : "no saved copy"}`);
    };
    const result = await runRestore({
        input: flags.input,
        output: flags.output,
        until: flags.until,
        sequence: sequenceOf(flags),
        disk: flags.disk,
        adjustConfig: flags.adjustConfig,
        define: flags.define,
        name: flags.name,
        raw: flags.raw,
        uri: flags.uri,
    }, { signal, onEvent, undo: restoreUndo });
    run.endProgress();
    logLine({ event: "result", action, ...result });
    if (flags.json)
        printJson({ event: "result", action, ...result });
    else if (flags.verbose || !flags.noprogress) {
        for (const d of result.disks)
            run.say(`${d.disk}: ${d.output} (${d.files.length} file${d.files.length > 1 ? "s" : ""})`);
        for (const b of result.bootFiles.filter(f => f.status === "restored"))
            run.say(`${b.kind}: ${b.output} (from ${b.saved})`);
        if (result.config)
            run.say(`config: ${result.config}${result.defined ? `, defined as ${result.defined}` : ""}`);
    }
}

main().catch(err => {
    const extra = err instanceof ChainError && err.file ? { file: err.file } : {};
    // An error before the run's output was set up (the log file) is told the same way.
    const message = cli ? cli.fail(err, extra) : reportFailure("virtnbdrestore", err, process.argv.includes("--json"), extra);
    logLine({ event: "error", message });
});
