// SPDX-License-Identifier: GPL-3.0-or-later
// Where a mapping keeps its index files and NBD sockets: a directory of a random name under
// /run/virtnbdbackup/maps (root's, see backup/run-dir.ts), one per mapping, so two mappings of the
// same point, by one user or two, never share a name. It is 0700; a mapping for another user (QEMU's, for
// a VM started on it) is 0711 with the sockets given to that user: it can connect, list nothing, change nothing. Its owner.json names the process that made it
// (pid and start time, so a reused pid is not taken for it), the nbdkit servers it started and the backup
// files they read (what pruning and consolidation must leave alone while the mapping lives: liveMappings);
// a mapping whose owner died (SIGKILL) is removed by the next one that starts. The maps folder is checked
// before anything in it is read or removed (mapsDir): the owner files name processes to kill and whole folders go.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { RUN_DIR, privateDir } from "../backup/run-dir.ts";
import { writeFileAtomic } from "../fs/safe-open.ts";
import { currentProcess, processArgv, processRunning } from "../tools/proc.ts";

export const MAPS_DIR = path.join(RUN_DIR, "maps");
const NAME_RE = /^[0-9a-f]{16}$/;
const OWNER_FILE = "owner.json";
/** A directory without an owner file is being made; one this old was left by a run killed at that moment. */
const UNOWNED_GRACE_MS = 60_000;

/** The maps folder, checked and made when missing (run-dir.ts): root's, 0711, under folders only root can change. */
function mapsDir(): string {
    return privateDir(MAPS_DIR, 0o711);
}

interface Owner {
    pid: number;
    start: string | null;
    /** The maker's PID namespace (proc.ts; absent in records of older versions). */
    pidNs?: number;
    /** nbdkit pids. */
    servers: number[];
    /** The backup files served, by real path (absent in records of older versions). */
    files?: string[];
}

/** A mapping whose maker still runs, and the backup files it serves. */
export interface LiveMapping {
    dir: string;
    pid: number;
    files: string[];
}

export class MapDir {
    private readonly owner: Owner = { ...currentProcess(), servers: [] };

    private constructor(readonly dir: string) {}

    /** Makes a new mapping directory (after removing what dead mappings left); `traversable`: 0711. */
    static create(traversable = false): MapDir {
        removeStaleMaps();
        // 0711: a socket's owner other than root reaches it by its (unguessable) path.
        const dir = path.join(mapsDir(), randomBytes(8).toString("hex"));
        fs.mkdirSync(dir, { mode: 0o700 });  // fails if anything is there
        if (traversable)
            fs.chmodSync(dir, 0o711);
        const made = new MapDir(dir);
        made.save();
        return made;
    }

    /** Lets `owner` (and root) connect to a socket of this mapping, and no one else. */
    giveSocket(socket: string, owner: { uid: number; gid: number }): void {
        fs.lchownSync(socket, owner.uid, owner.gid);
        fs.chmodSync(socket, 0o600);
    }

    file(name: string): string {
        return path.join(this.dir, name);
    }

    /** Records backup files the mapping serves (real paths), before it reads them. */
    addFiles(files: string[]): void {
        this.owner.files = [...this.owner.files ?? [], ...files];
        this.save();
    }

    addServer(pid: number): void {
        this.owner.servers.push(pid);
        this.save();
    }

    remove(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    private save(): void {
        writeFileAtomic(this.file(OWNER_FILE), JSON.stringify(this.owner) + "\n");
    }
}

/** Whether the recorded owner may still be the live process that wrote the record (one of another PID namespace is). */
function ownerAlive(owner: Owner): boolean {
    return processRunning(owner);
}

/** An nbdkit that still serves a socket of `dir` (nbdkit exits with its parent; this is the fallback). */
function isServerOf(pid: number, dir: string): boolean {
    const argv = processArgv(pid);
    return argv !== null && path.basename(argv[0] ?? "") === "nbdkit" && argv.some(a => a.startsWith(`${dir}/`));
}

function readOwner(dir: string): Owner | undefined {
    try {
        return JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), "utf8")) as Owner;
    } catch {
        return undefined;
    }
}

/** The mappings on this host whose maker is alive, with the files they serve. */
export function liveMappings(): LiveMapping[] {
    const maps = mapsDir();
    return fs.readdirSync(maps).filter(n => NAME_RE.test(n)).flatMap(name => {
        const dir = path.join(maps, name);
        const owner = readOwner(dir);
        if (!owner || !ownerAlive(owner))
            return [];
        const files = Array.isArray(owner.files) ? owner.files.filter((f): f is string => typeof f === "string") : [];
        return [{ dir, pid: owner.pid, files }];
    });
}

/** Removes the mapping directories whose owner is gone, ending their servers; returns the ones removed. */
export function removeStaleMaps(now = Date.now()): string[] {
    const maps = mapsDir();
    const removed: string[] = [];
    for (const name of fs.readdirSync(maps).filter(n => NAME_RE.test(n))) {
        const dir = path.join(maps, name);
        const owner = readOwner(dir);
        let age: number;
        try {
            age = now - fs.lstatSync(dir).mtimeMs;
        } catch {
            continue;  // removed meanwhile (another mapping cleaning up)
        }
        if (owner ? ownerAlive(owner) : age < UNOWNED_GRACE_MS)
            continue;
        for (const pid of Array.isArray(owner?.servers) ? owner.servers : []) {
            if (Number.isSafeInteger(pid) && isServerOf(pid, dir))
                process.kill(pid, "SIGKILL");
        }
        fs.rmSync(dir, { recursive: true, force: true });
        removed.push(dir);
    }
    return removed;
}
