// SPDX-License-Identifier: GPL-3.0-or-later
// One browse session: a guest disk served read-only over NBD (a unix socket) made reachable as files.
//   NBD socket -> qemu-storage-daemon's FUSE export (a read-only file: the raw disk)
//              -> one read-only loop device per partition (offset + size limit; the whole disk when it has
//                 no partition table)
//              -> each file system mounted ro,nosuid,nodev,noexec, no journal replay (mountOptions)
// Everything lives under /run/virtnbdbackup/browse/<session> (root only). What a session holds is found
// from the system itself (mountinfo, losetup, the daemon's pid file), not only from its state file, so a
// session of a killed helper is cleaned up whatever step it died in.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../fs/safe-open.ts";
import { removeStaleMaps } from "../map/map-dirs.ts";
import { runTool } from "../tools/run-tool.ts";
import { processArgv } from "../tools/proc.ts";
import { kernelType, mountOptions, parseBlkid, volumesOf, type Volume } from "./disk-layout.ts";
import { refOf, runsHere, type ProcessRef } from "./process-ref.ts";
import { otherNamespaceMessage, processLiveness, processRunning } from "../tools/proc.ts";
import { browseDir, isSessionId, sessionDir } from "./paths.ts";

/** A volume of the session's disk as the page sees it. */
export interface BrowseVolume extends Volume {
    /** File system type (blkid's name), when one was found. */
    type?: string;
    label?: string;
    mounted: boolean;
    /** Why it is not mounted. */
    reason?: string;
}

/** The session's state file. */
export interface SessionState {
    id: string;
    socket: string;
    exportName: string;
    created: number;
    idleSeconds: number;
    /** The helper that opens it, until the keeper takes over. */
    opener?: ProcessRef;
    /** The detached process that ends the session after idleSeconds without use. */
    keeper?: ProcessRef;
    volumes: BrowseVolume[];
}

export interface OpenOptions {
    socket: string;
    exportName: string;
    idleSeconds: number;
}

const STATE = "state.json";
const DISK = "disk";
const QSD_PID = "qsd.pid";
const USED = "used";

/** Opens a session (mounting what it can) and returns its state; on failure nothing of it is left. */
export async function openSession(opts: OpenOptions): Promise<SessionState> {
    const id = randomBytes(8).toString("hex");
    const dir = sessionDir(id);
    fs.mkdirSync(dir, { mode: 0o700 });
    const state: SessionState = {
        id, socket: opts.socket, exportName: opts.exportName, created: Date.now(), idleSeconds: opts.idleSeconds,
        opener: refOf(process.pid)!, volumes: [],
    };
    try {
        writeState(state);
        touchSession(id);
        const disk = path.join(dir, DISK);
        fs.writeFileSync(disk, "", { mode: 0o600, flag: "wx" });
        await startDiskExport(dir, opts);
        const size = fs.statSync(disk).size;
        for (const volume of volumesOf(await partitionTable(disk), size))
            state.volumes.push(await mountVolume(dir, disk, volume));
        writeState(state);
        return state;
    } catch (e) {
        await closeSession(id);
        throw e;
    }
}

/** Records the keeper and drops the opener: from here the session lives as long as its keeper. */
export function handOver(state: SessionState, keeperPid: number): void {
    state.keeper = refOf(keeperPid);
    delete state.opener;
    writeState(state);
}

/**
 * Throws when the session's keeper (or opener) runs in another PID namespace: its pid means nothing here
 * and its mounts are that process's to end.
 */
export function refuseOtherNamespace(state: SessionState): void {
    for (const ref of [state.keeper, state.opener]) {
        if (ref && processLiveness(ref) === "other-namespace")
            throw new Error(otherNamespaceMessage(`browse session ${state.id}`, ref));
    }
}

/** The state of a session that exists, or an error naming it. */
export function readSession(id: string): SessionState {
    try {
        return JSON.parse(fs.readFileSync(path.join(sessionDir(id), STATE), "utf8")) as SessionState;
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT")
            throw new Error(`no browse session ${id} (closed, or ended after being idle)`);
        throw e;
    }
}

/** The mount point of one volume of a session, or an error saying why there is none. */
export function volumeRoot(state: SessionState, volumeId: string): string {
    const v = state.volumes.find(x => x.id === volumeId);
    if (!v)
        throw new Error(`session ${state.id} has no volume ${volumeId}`);
    if (!v.mounted)
        throw new Error(`volume ${volumeId} is not mounted: ${v.reason ?? "no file system"}`);
    return path.join(sessionDir(state.id), "mnt", volumeId);
}

/** Marks the session as used now (the keeper's idle clock starts again). */
export function touchSession(id: string): void {
    const file = path.join(sessionDir(id), USED);
    const now = new Date();
    try {
        fs.utimesSync(file, now, now);
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT")
            throw e;
        // The first use; a session closed meanwhile stays closed (its folder is gone: no file is made).
        fs.writeFileSync(file, "", { mode: 0o600, flag: "wx" });
    }
}

/** Milliseconds since the session was last used, or null when it is gone. */
export function idleMs(id: string): number | null {
    try {
        return Date.now() - fs.statSync(path.join(sessionDir(id), USED)).mtimeMs;
    } catch {
        return null;
    }
}

/** The sessions on this host (their ids); throws when the browse folder is not root's alone. */
export function sessionIds(): string[] {
    return fs.readdirSync(browseDir()).filter(isSessionId);
}

/**
 * Closes every session whose opener and keeper are both gone (a helper or keeper killed), and removes the
 * mappings whose maker is gone: what the next helper start runs. Returns the ids closed.
 */
export async function sweepSessions(): Promise<string[]> {
    const closed: string[] = [];
    for (const id of sessionIds()) {
        let state: SessionState | null = null;
        try {
            state = JSON.parse(fs.readFileSync(path.join(sessionDir(id), STATE), "utf8")) as SessionState;
        } catch {
            // no state (killed before writing it): only an orphan has none after its opener's first step
        }
        // One of another PID namespace (a container sharing /run) is never taken for dead (tools/proc.ts).
        const alive = state && (processRunning(state.opener) || processRunning(state.keeper));
        if (!alive && !youngerThan(id, 10_000, state)) {
            await closeSession(id);
            closed.push(id);
        }
    }
    // A killed browse-point keeper's mapping: its nbdkit outlives it while a client (the daemon just stopped)
    // was connected; it and its folder go now, not only at the next mapping.
    removeStaleMaps();
    return closed;
}

/** A session made so recently that its state file may still be on its way. */
function youngerThan(id: string, ms: number, state: SessionState | null): boolean {
    if (state)
        return false;
    try {
        return Date.now() - fs.statSync(sessionDir(id)).mtimeMs < ms;
    } catch {
        return false;
    }
}

/**
 * Unmounts, detaches, stops and removes everything of a session, found from the system: mounts under its
 * folder, loop devices on its disk file, its qemu-storage-daemon. Safe to run twice or on a half-made one.
 */
export async function closeSession(id: string): Promise<void> {
    const dir = sessionDir(id);
    const disk = path.join(dir, DISK);
    const failures: string[] = [];
    let state: SessionState | null = null;
    try {
        state = JSON.parse(fs.readFileSync(path.join(dir, STATE), "utf8")) as SessionState;
    } catch {
        // a half-made session: the system says what it holds
    }
    for (const m of mountsUnder(path.join(dir, "mnt"))) {
        const r = await tryTool("umount", [m]);
        // Busy (a reader still streams): detached now, freed when it is done.
        if (r && await tryTool("umount", ["-l", m]))
            failures.push(r);
    }
    for (const loop of await loopsOf(disk)) {
        const r = await tryTool("losetup", ["-d", loop]);
        if (r)
            failures.push(r);
    }
    await stopDiskExport(dir);
    if (mountsUnder(dir).length > 0 || fs.existsSync(disk) && mountsUnder(disk).length > 0)
        failures.push(`${dir} still has mounts`);
    else
        await runTool("rm", ["-rf", "--one-file-system", dir]).catch(e => failures.push((e as Error).message));
    if (state?.keeper && state.keeper.pid !== process.pid && runsHere(state.keeper)) {
        process.kill(state.keeper.pid, "SIGTERM");
        for (let i = 0; i < 50 && runsHere(state.keeper); i++)
            await sleep(100);
    }
    if (failures.length > 0)
        throw new Error(`closing browse session ${id}: ${failures.join("; ")}`);
}

function writeState(state: SessionState): void {
    writeFileAtomic(path.join(sessionDir(state.id), STATE), JSON.stringify(state));
}

/** qemu-storage-daemon: the NBD export as a read-only file (FUSE), only root may open it. */
async function startDiskExport(dir: string, opts: OpenOptions): Promise<void> {
    const nbd = ["driver=nbd", "node-name=guest", "server.type=unix", `server.path=${opts.socket}`,
        ...(opts.exportName ? [`export=${opts.exportName}`] : []), "read-only=on"].join(",");
    await runTool("qemu-storage-daemon", [
        "--daemonize", "--pidfile", path.join(dir, QSD_PID),
        "--blockdev", nbd,
        "--export", `type=fuse,id=guest,node-name=guest,mountpoint=${path.join(dir, DISK)},writable=off,allow-other=off`,
    ]);
}

async function stopDiskExport(dir: string): Promise<void> {
    const disk = path.join(dir, DISK);
    const ours = (p: number) => {
        const argv = processArgv(p);
        return argv !== null && path.basename(argv[0] ?? "") === "qemu-storage-daemon" && argv.some(a => a.includes(`mountpoint=${disk},`));
    };
    // By its command line, not its pid file: a daemon still connecting (a helper killed meanwhile) has none yet.
    // Looked for again after every signal: one still starting may fork its daemon between a look and the signal
    // (--daemonize), and that child must not outlive the session. Done when two looks in a row find none.
    let clean = 0;
    for (let round = 0; clean < 2 && round < 100; round++) {
        const pids = fs.readdirSync("/proc").filter(n => /^\d+$/.test(n)).map(Number).filter(ours);
        clean = pids.length === 0 ? clean + 1 : 0;
        for (const pid of pids) {
            try {
                process.kill(pid, round < 50 ? "SIGTERM" : "SIGKILL");
            } catch { /* gone meanwhile */ }
        }
        await sleep(100);
    }
    // A daemon killed hard leaves its FUSE mount behind (reads then fail with ENOTCONN).
    if (mountsUnder(disk).length > 0)
        await tryTool("umount", ["-l", disk]);
}

/** sfdisk --json of the disk, or null when it has no partition table. */
async function partitionTable(disk: string): Promise<string | null> {
    try {
        return await runTool("sfdisk", ["--json", disk]);
    } catch (e) {
        if (/does not contain a recognized partition table/.test((e as Error).message))
            return null;
        throw e;
    }
}

async function mountVolume(dir: string, disk: string, volume: Volume): Promise<BrowseVolume> {
    const loop = (await runTool("losetup", ["--read-only", "--find", "--show", "--offset", String(volume.offset),
        "--sizelimit", String(volume.size), disk])).trim();
    const detach = () => runTool("losetup", ["-d", loop]);
    let fields: Map<string, string>;
    try {
        fields = parseBlkid(await runTool("blkid", ["-p", "-o", "export", loop]));
    } catch {
        fields = new Map();
    }
    const type = fields.get("TYPE");
    const result: BrowseVolume = { ...volume, type, label: fields.get("LABEL"), mounted: false };
    const why = !type ? "no file system found"
        : fields.get("USAGE") && fields.get("USAGE") !== "filesystem" ? `${type} holds no files`
        : !mountOptions(kernelType(type)) ? `${type} is not browsed`
        : !hostReads(kernelType(type)) ? `this host's kernel cannot read ${type}`
        : null;
    if (why) {
        await detach();
        return { ...result, reason: why };
    }
    const mnt = path.join(dir, "mnt", volume.id);
    fs.mkdirSync(mnt, { recursive: true, mode: 0o700 });
    try {
        await runTool("mount", ["-t", kernelType(type!), "-o", mountOptions(kernelType(type!))!, loop, mnt]);
    } catch (e) {
        await detach();
        return { ...result, reason: `cannot mount ${type}: ${(e as Error).message.split("\n")[0]}` };
    }
    return { ...result, mounted: true };
}

/** File system types the running kernel knows (modules not loaded yet are not known here). */
function hostReads(type: string): boolean {
    try {
        return fs.readFileSync("/proc/filesystems", "utf8").split("\n").some(l => l.split("\t")[1] === type);
    } catch {
        return false;
    }
}

/** Mount points at or under `prefix`, deepest first. */
function mountsUnder(prefix: string): string[] {
    const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    return fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")
            .map(l => unescape(l.split(" ")[4] ?? ""))
            .filter(m => m === prefix || m.startsWith(`${prefix}/`))
            .sort((a, b) => b.length - a.length);
}

/** Loop devices whose backing file is `file`. */
async function loopsOf(file: string): Promise<string[]> {
    const out = await runTool("losetup", ["--list", "--json", "--output", "NAME,BACK-FILE"]).catch(() => "");
    if (!out.trim())
        return [];
    const list = (JSON.parse(out) as { loopdevices?: { name: string; "back-file": string | null }[] }).loopdevices ?? [];
    // The kernel may add " (deleted)" when the file is gone.
    return list.filter(l => (l["back-file"] ?? "").replace(/ \(deleted\)$/, "") === file).map(l => l.name);
}

/** Runs a tool; returns its error message, or null when it worked. */
async function tryTool(cmd: string, args: string[]): Promise<string | null> {
    try {
        await runTool(cmd, args);
        return null;
    } catch (e) {
        return (e as Error).message.split("\n")[0]!;
    }
}

function sleep(ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms));
}
