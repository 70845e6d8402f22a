// SPDX-License-Identifier: GPL-3.0-or-later
// Entry point the Cockpit UI spawns as root: one subcommand per request, its answer as JSON on stdout.
// Exit 0: success. Exit 1: the request failed (one human-readable line on stderr).
// Exit 2: unknown subcommand or invalid arguments (one line on stderr).
import { Command, CommanderError } from "commander";
import { LibvirtError } from "../libvirt/virsh.ts";
import { addListVms } from "./commands/list-vms.ts";
import { addWatchVms } from "./commands/watch-vms.ts";
import { addSettingsCommands } from "./commands/backup-settings.ts";
import { addBackupJobCommands } from "./commands/backup-job.ts";
import { addRestorePointsCommand } from "./commands/restore-points.ts";
import { addVerifyPointCommand } from "./commands/verify-point.ts";
import { addRestoreJobCommands } from "./commands/restore-job.ts";
import { addPruneCommand } from "./commands/prune.ts";
import { addCheckFolderCommand } from "./commands/check-folder.ts";
import { addHistoryCommands } from "./commands/history.ts";
import { addMapPointCommand } from "./commands/map-point.ts";
import { addInstantCommands } from "./commands/instant.ts";
import { addBrowseCommands } from "./commands/browse.ts";
import { addConsolidateCommand } from "./commands/consolidate.ts";
import { addBrowsePointCommands } from "./commands/browse-point.ts";

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

function buildProgram(): Command {
    const program = new Command("helper")
        .description("privileged helper of the Cockpit virtnbdbackup plugin")
        .exitOverride()  // we choose the exit codes (below)
        .configureOutput({
            // Commander's own errors ("error: unknown command 'x'") become one line.
            outputError: (message, write) => write(`helper: ${message.trim().split("\n")[0]!.replace(/^error:\s*/, "")}\n`),
        })
        .showSuggestionAfterError(false);
    addListVms(program);
    addWatchVms(program);
    addSettingsCommands(program);
    addCheckFolderCommand(program);
    addBackupJobCommands(program);
    addRestorePointsCommand(program);
    addVerifyPointCommand(program);
    addRestoreJobCommands(program);
    addPruneCommand(program);
    addHistoryCommands(program);
    addMapPointCommand(program);
    addInstantCommands(program);
    addBrowseCommands(program);
    addConsolidateCommand(program);
    addBrowsePointCommands(program);
    // More subcommands (backup, restore, list-backups, ...) are added here, one module each in ./commands.
    return program;
}

/** One line for the user, whatever failed. */
function describeFailure(e: unknown): string {
    if (e instanceof LibvirtError) {
        // Without root, libvirt answers with polkit/D-Bus or socket permission errors that hide the real cause.
        if (e.code === "unavailable" && (/Permission denied|authentication/i.test(e.message) || process.getuid?.() !== 0))
            return `Cannot connect to libvirt (${e.uri}) as a non-root user: the helper must run as root (${e.message})`;
        if (e.code === "unavailable")
            return `Cannot connect to libvirt (${e.uri}): is libvirtd running? (${e.message})`;
        return e.message;
    }
    const message = e instanceof Error ? e.message : String(e);
    return message.split("\n")[0] || "unknown error";
}

async function main(argv: string[]): Promise<number> {
    const program = buildProgram();
    if (argv.length === 0) {
        process.stderr.write(`helper: missing subcommand (one of: ${program.commands.map(c => c.name()).join(", ")})\n`);
        return EXIT_USAGE;
    }
    try {
        await program.parseAsync(argv, { from: "user" });
        return 0;
    } catch (e) {
        if (e instanceof CommanderError)
            return e.code === "commander.helpDisplayed" || e.code === "commander.version" ? 0 : EXIT_USAGE;
        process.stderr.write(`helper: ${describeFailure(e)}\n`);
        return EXIT_FAILURE;
    }
}

main(process.argv.slice(2)).then(code => {
    process.exitCode = code;
}, e => {
    process.stderr.write(`helper: ${describeFailure(e)}\n`);
    process.exitCode = EXIT_FAILURE;
});
