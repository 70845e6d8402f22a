// SPDX-License-Identifier: GPL-3.0-or-later
// `helper get-settings --domain NAME` and `helper set-settings --domain NAME --folder DIR [--compress]
// [--schedule off|daily|weekly --weekday N --time HH:MM]`: a VM's backup folder, compression and schedule,
// with the job state file the page watches; `run-scheduled --uuid UUID` is what the VM's timer (or cron line) runs.
import { InvalidArgumentError, Option, type Command } from "commander";
import { ensureDir, readJsonFile } from "../../jobs/atomic-file.ts";
import { checkScheduledCommand, requireCron, storedSchedules, type ScheduledCommand } from "../../jobs/cron-file.ts";
import { schedulerStatus, schedulesToMigrate, thisHost, writeSchedules } from "../../jobs/schedules.ts";
import { checkUnitProgram, onCalendar, scheduleUnitName } from "../../jobs/timer-units.ts";
import { checkUuid, JOBS_DIR, settingsFile, statusFile } from "../../jobs/paths.ts";
import { DEFAULT_SCHEDULE, SCHEDULE_FREQUENCIES, type ScheduleFrequency } from "../../protocol/schedule-rules.ts";
import { parseKeepChains, parseKeepPoints, parseNewChain, parseSchedule, parseSettings, readSettings, validateChosenFolder, writeSettings } from "../../jobs/settings.ts";
import { JobLockedError } from "../../backup/lock.ts";
import { JobRunningError, startBackupJob } from "../../jobs/start.ts";
import type { NewChainPolicy, SettingsAnswer, VmSettings } from "../../protocol/job-types.ts";
import { scheduledLevel } from "../../jobs/scheduled-level.ts";
import { helperPath } from "./backup-job.ts";
import { answer, findVm, NoSuchVmError, parseDomainName, type NamedVm } from "./domain-arg.ts";

function weekday(value: string): number {
    if (!/^[0-6]$/.test(value))
        throw new InvalidArgumentError("expected 0 (Sunday) to 6 (Saturday)");
    return Number(value);
}

/** What a cron line or timer starts: this node and this helper. */
function scheduledCommand(): ScheduledCommand {
    return { node: process.execPath, helper: helperPath() };
}

/** A deleted VM's stored schedule set to off, and the schedules rewritten without it. */
async function turnScheduleOff(uuid: string): Promise<void> {
    const stored = readJsonFile(settingsFile(uuid));
    if (stored !== undefined) {
        const settings = parseSettings(stored, settingsFile(uuid));
        writeSettings(uuid, { ...settings, schedule: { ...settings.schedule, frequency: "off" } });
    }
    await writeSchedules(scheduledCommand());
}

function settingsAnswer(vm: NamedVm, systemd: boolean): SettingsAnswer {
    // The page watches the state file from now on; its folder must exist for the watch to work.
    ensureDir(JOBS_DIR);
    const settings = readSettings(vm.uuid, vm.name);
    const timer = systemd && settings.schedule.frequency !== "off" ? { timer: scheduleUnitName(vm.uuid.toLowerCase(), "timer") } : {};
    return { domain: vm.name, uuid: vm.uuid, ...settings, statusFile: statusFile(vm.uuid), scheduler: schedulerStatus(), ...timer };
}

/** Waits up to `minutes`, at random: the random delay of a cron-started run (a timer has its own). */
function randomWait(minutes: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, Math.floor(Math.random() * minutes * 60_000)));
}

export function addSettingsCommands(program: Command): void {
    program
        .command("get-settings")
        .description("a VM's backup settings (folder, compression) as JSON")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .allowExcessArguments(false)
        .action(async (opts: { domain: string }) => {
            const vm = await findVm(opts.domain);
            // A host that changed between cron and systemd (or an upgrade from a cron-only version) gets its
            // schedules moved over the first time the page looks.
            const host = thisHost();
            if (schedulesToMigrate(host))
                await writeSchedules(scheduledCommand(), host);
            answer(settingsAnswer(vm, host.systemd));
        });
    program
        .command("set-settings")
        .description("store a VM's backup settings")
        .requiredOption("--domain <name>", "virtual machine", parseDomainName)
        .requiredOption("--folder <dir>", "absolute backup folder")
        .option("--compress", "compress backups with lz4", false)
        .addOption(new Option("--schedule <frequency>", "automatic backups (level auto); default: as stored").choices(SCHEDULE_FREQUENCIES))
        .option("--weekday <n>", "day of weekly backups, 0 (Sunday) to 6; default: as stored", weekday)
        .option("--time <HH:MM>", "local time of automatic backups; default: as stored")
        .option("--random-delay <minutes>", "start each automatic backup up to this many minutes later, at random (0: at the time); default: as stored")
        .option("--keep-chains <n>", "keep the last N chains (\"all\": keep all); default: as stored")
        .option("--keep-points <n>", "keep the last N restore points of each chain, merging older ones into a full (\"all\": keep all); default: as stored")
        .option("--keep-daily <n>", "also keep the newest point of each of the last N days in each chain (\"all\": no such rule); default: as stored")
        .option("--keep-weekly <n>", "also keep the newest point of each of the last N ISO weeks; default: as stored")
        .option("--keep-monthly <n>", "also keep the newest point of each of the last N months; default: as stored")
        .option("--new-chain <when>", "scheduled backups start a new chain: never, week, month, or every N backups (a number); default: as stored")
        .allowExcessArguments(false)
        .action(async (opts: { domain: string; folder: string; compress: boolean; schedule?: ScheduleFrequency; weekday?: number; time?: string; randomDelay?: string; keepChains?: string; keepPoints?: string; keepDaily?: string; keepWeekly?: string; keepMonthly?: string; newChain?: string }) => {
            const vm = await findVm(opts.domain);
            // Unreadable stored settings are replaced, not a reason to refuse new ones.
            let stored = DEFAULT_SCHEDULE;
            let storedKeep: number | null = null;
            let storedNewChain: NewChainPolicy = "never";
            let storedFolder: string | undefined;
            let storedPoints: Pick<VmSettings, "keepPoints" | "keepDaily" | "keepWeekly" | "keepMonthly"> = {};
            try {
                const current = readSettings(vm.uuid, vm.name);
                ({ schedule: stored, keepChains: storedKeep, newChain: storedNewChain, folder: storedFolder } = current);
                storedPoints = current;
            } catch {
                // keep the default
            }
            const keepChains = opts.keepChains === undefined ? storedKeep : parseKeepChains(opts.keepChains, "--keep-chains");
            const rule = (given: string | undefined, stored: number | null | undefined, flag: string) =>
                given === undefined ? stored ?? null : parseKeepPoints(given, flag);
            const points = {
                keepPoints: rule(opts.keepPoints, storedPoints.keepPoints, "--keep-points"),
                keepDaily: rule(opts.keepDaily, storedPoints.keepDaily, "--keep-daily"),
                keepWeekly: rule(opts.keepWeekly, storedPoints.keepWeekly, "--keep-weekly"),
                keepMonthly: rule(opts.keepMonthly, storedPoints.keepMonthly, "--keep-monthly"),
            };
            const newChain = opts.newChain === undefined ? storedNewChain : parseNewChain(opts.newChain, "--new-chain");
            const schedule = parseSchedule({
                frequency: opts.schedule ?? stored.frequency,
                weekday: opts.weekday ?? stored.weekday,
                time: opts.time ?? stored.time,
                randomDelay: opts.randomDelay === undefined ? stored.randomDelay : /^\d{1,4}$/.test(opts.randomDelay) ? Number(opts.randomDelay) : NaN,
            }, "schedule");
            // A folder chosen now meets the stricter rules; one stored before them keeps working.
            if (opts.folder !== storedFolder)
                validateChosenFolder(opts.folder, vm.diskPaths);
            // Refusals before anything is stored: the settings and the schedules change together or not at all.
            const command = scheduledCommand();
            const host = thisHost();
            if (schedule.frequency !== "off") {
                if (host.systemd) {
                    checkUnitProgram(command);
                    onCalendar(schedule);
                } else {
                    requireCron();
                    checkScheduledCommand(command);
                }
            }
            writeSettings(vm.uuid, { folder: opts.folder, compress: opts.compress, schedule, keepChains, ...points, newChain });
            await writeSchedules(command, host);
            answer(settingsAnswer(vm, host.systemd));
        });
    program
        .command("write-schedules", { hidden: true })
        .description("set the host's schedules (timers or the cron file) up from the stored settings; what the package's postinst runs")
        .allowExcessArguments(false)
        .action(async () => {
            const host = thisHost();
            await writeSchedules(scheduledCommand(), host);
            answer({ scheduler: host.systemd ? "systemd" : "cron", schedules: storedSchedules(host.settingsDir).filter(e => e.schedule.frequency !== "off").length });
        });
    program
        .command("run-scheduled")
        .description("start a VM's scheduled backup (level auto) as the page would; what its timer or cron line runs")
        .requiredOption("--uuid <uuid>", "the VM's UUID")
        .option("--random-delay", "first wait up to the VM's random delay (cron has none of its own)", false)
        .allowExcessArguments(false)
        .action(async (opts: { uuid: string; randomDelay: boolean }) => {
            const uuid = checkUuid(opts.uuid);
            // A cron line left on a host that now runs systemd (or timers on one that no longer does) runs once more:
            // then the schedules move over, even where no one opens the page.
            if (schedulesToMigrate())
                await writeSchedules(scheduledCommand());
            let vm: NamedVm;
            try {
                vm = await findVm(uuid);
            } catch (err) {
                if (!(err instanceof NoSuchVmError))
                    throw err;
                // The VM was deleted: its schedule goes off (and its cron line with it) instead of failing every day.
                await turnScheduleOff(uuid);
                throw new Error(`no virtual machine has the UUID ${uuid} any more: its automatic backups are turned off`);
            }
            let settings = readSettings(vm.uuid, vm.name);
            if (opts.randomDelay && settings.schedule.randomDelay) {
                await randomWait(settings.schedule.randomDelay);
                settings = readSettings(vm.uuid, vm.name);  // what holds now, after the wait
            }
            if (settings.schedule.frequency === "off") {
                process.stderr.write(`helper: ${vm.name} has no schedule: nothing started\n`);
                return;
            }
            try {
                const level = await scheduledLevel(settings, vm.name, new Date());
                answer(startBackupJob({ domain: vm.name, uuid: vm.uuid, level, settings, helperPath: helperPath(), scheduled: true }));
            } catch (err) {
                // A backup or restore still running (or started by hand) is not an error of the schedule.
                if (!(err instanceof JobRunningError || err instanceof JobLockedError))
                    throw err;
                process.stderr.write(`helper: scheduled backup of ${vm.name} not started: ${err.message}\n`);
            }
        });
}
