// SPDX-License-Identifier: GPL-3.0-or-later
// Who reads backup files right now: every live mapping (helper/map/map-dirs.ts records the files its
// servers read), named by what it is for: a VM started from backup (its record, helper/instant), a browse
// session (its state, helper/browse), else the process that made it (virtnbdmap, a restore). Pruning,
// consolidation and deleting a point or chain leave those files alone: refused with the user's name, or (the
// scheduled retention) skipped with a warning. A mapping that starts while they run cannot slip past the check:
// backup/folder-lock.ts.
import path from "node:path";
import { liveMappings, type LiveMapping } from "../map/map-dirs.ts";
import { holderAlive, listRecords, type InstantRecord } from "../instant/instant-record.ts";
import { readSession, sessionIds } from "../browse/session.ts";
import { processArgv } from "../tools/proc.ts";

/** A live user of backup files. */
export interface ChainUser {
    /** What it is, for a message: `the VM "x" started from backup`, `browse session <id>`, `virtnbdmap (process N)`. */
    who: string;
    /** The files it reads (real paths). */
    files: string[];
}

/** Backup files are in use: nothing was changed. `reason` says who reads what (inUseMessage). */
export class ChainInUseError extends Error {
    override readonly name = "ChainInUseError";
    constructor(message: string, readonly reason: string) {
        super(message);
    }
}

/** The browse sessions' sockets (a session of a mapped point serves from a socket in the mapping's folder). */
interface SessionSocket {
    id: string;
    socket: string;
}

/** What a mapping is for, from the records of its possible users. Pure. */
export function describeUser(mapping: LiveMapping, instants: readonly Pick<InstantRecord, "name" | "pid" | "disks">[],
                             sessions: readonly SessionSocket[], argv: readonly string[] | null): string {
    const inDir = (file: string) => file.startsWith(`${mapping.dir}/`);
    const vm = instants.find(r => r.pid === mapping.pid || r.disks.some(d => inDir(d.uri.replace(/^.*[?&]socket=/, ""))));
    if (vm)
        return `the VM "${vm.name}" started from backup`;
    const session = sessions.find(s => inDir(s.socket));
    if (session)
        return `browse session ${session.id} (Browse files)`;
    const program = argv && argv.length > 1 && /^node/.test(path.basename(argv[0] ?? "")) ? argv[1] : argv?.[0];
    const name = program ? path.basename(program).replace(/\.js$/, "") : "a program";
    const command = name === "helper" && argv?.[2] && !argv[2].startsWith("-") ? `${name} ${argv[2]}` : name;
    return `${command} (process ${mapping.pid})`;
}

/** The live users of backup files on this host. */
export function chainUsers(): ChainUser[] {
    const mappings = liveMappings().filter(m => m.files.length > 0);
    if (mappings.length === 0)
        return [];
    const instants = listRecords().filter(holderAlive);
    const sessions: SessionSocket[] = sessionIds().flatMap(id => {
        try {
            return [{ id, socket: readSession(id).socket }];
        } catch {
            return [];  // closed meanwhile
        }
    });
    return mappings.map(m => ({ who: describeUser(m, instants, sessions, processArgv(m.pid)), files: m.files }));
}

/** The first user reading any of `files` (real paths). Pure. */
export function userOfFiles(files: readonly string[], users: readonly ChainUser[]): ChainUser | undefined {
    const wanted = new Set(files);
    return users.find(u => u.files.some(f => wanted.has(f)));
}

/** The first user reading a file directly in `folder` (a chain folder, real path). Pure. */
export function userOfFolder(folder: string, users: readonly ChainUser[]): ChainUser | undefined {
    return users.find(u => u.files.some(f => path.dirname(f) === folder));
}

/** Why `what` (e.g. "chain-2") is left alone: `user` reads it. */
export function inUseMessage(what: string, user: ChainUser): string {
    return `${user.who} reads ${what}`;
}

/** What to do with backup files in use: refuse the whole change (a person asked for it) or skip them (the schedule). */
export type InUsePolicy = "refuse" | "skip";

/** The refusal of a change that would touch files in use. */
export function inUseRefusal(what: string, user: ChainUser): ChainInUseError {
    const reason = inUseMessage(what, user);
    return new ChainInUseError(`${reason}: nothing was changed (stop it first, then try again)`, reason);
}

/**
 * Runs a page command's dry run or real run; a dry run (a preview) that meets files in use says what the real
 * run would do, not that nothing was changed (a preview changes nothing anyway). The real run's refusal stays.
 */
export async function withPreviewRefusal<T>(dryRun: boolean, run: () => Promise<T>): Promise<T> {
    try {
        return await run();
    } catch (err) {
        if (dryRun && err instanceof ChainInUseError)
            throw new ChainInUseError(previewRefusal(err.reason), err.reason);
        throw err;
    }
}

/** A preview's words for files in use (pure). */
export function previewRefusal(reason: string): string {
    return `${reason}: while it does, this is refused and would change nothing (stop it first, then try again)`;
}
