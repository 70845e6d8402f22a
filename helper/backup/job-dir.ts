// SPDX-License-Identifier: GPL-3.0-or-later
// Where a pull-mode job's NBD socket and scratch files live: directories made by this run with random
// names, owned by the VM's QEMU user (QEMU creates the socket and opens the scratch files; libvirt
// creates those files as root), mode 0700. The socket's directory is under /run/virtnbdbackup/jobs,
// where no other user can create anything; the scratch directory is in the --scratchdir folder, which
// must be root's (a sticky /var/tmp is fine: no one else can rename what is ours there). Their paths are
// recorded first in the root-only lock directory, so the next run removes what a dead run left; a job
// whose socket is in JOBS_DIR was started by this project.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { attr, child, children, parseRoot, text } from "../libvirt/xml.ts";
import { runTool } from "../tools/run-tool.ts";
import { JOBS_DIR, LOCK_DIR, checkRootOnlyPath, privateDir } from "./run-dir.ts";

export interface JobDirs {
    /** The NBD server's unix socket (QEMU creates it). */
    socket: string;
    /** Where libvirt creates the scratch files of the disks. */
    scratchDir: string;
}

/** The uid and gid QEMU runs as: the DAC label of the running domain's XML; undefined when it has none (root). */
export async function qemuOwner(liveXml: string): Promise<{ uid: number; gid: number } | undefined> {
    const domain = parseRoot(liveXml, "domain");
    const dac = children(domain, "seclabel").find(s => attr(s, "model") === "dac");
    const label = text(child(dac ?? {}, "label"));
    if (!label)
        return undefined;
    const m = /^([^:]+):([^:]+)$/.exec(label);
    if (!m)
        throw new Error(`cannot read the DAC label ${JSON.stringify(label)} of the domain`);
    return { uid: await idOf("passwd", m[1]), gid: await idOf("group", m[2]) };
}

/** "+64055" (libvirt's form for ids), "64055" or a name. */
async function idOf(db: "passwd" | "group", value: string): Promise<number> {
    const numeric = /^\+?(\d+)$/.exec(value);
    if (numeric)
        return Number(numeric[1]);
    const entry = (await runTool("getent", [db, value])).split(":");
    const id = Number(entry[2]);
    if (!Number.isSafeInteger(id))
        throw new Error(`cannot find ${db === "passwd" ? "user" : "group"} ${value} of the domain's DAC label`);
    return id;
}

function recordFile(uuid: string): string {
    return path.join(LOCK_DIR, `${uuid}.job`);
}

/**
 * Makes the job's two directories (caller holds the VM's lock, and has removed a dead run's with
 * removeJobDirs). `scratchParent` is the --scratchdir folder.
 */
export function makeJobDirs(uuid: string, scratchParent: string, owner: { uid: number; gid: number } | undefined): JobDirs {
    const scratchRoot = path.resolve(scratchParent);
    checkRootOnlyPath(scratchRoot, "scratch folder");
    const tag = randomBytes(8).toString("hex");
    const socketDir = path.join(privateDir(JOBS_DIR), `${uuid}.${tag}`);
    const scratchDir = path.join(scratchRoot, `virtnbdbackup.${uuid}.${tag}`);
    // Recorded before they exist: a run killed in between leaves nothing the next run does not know of.
    privateDir(LOCK_DIR);
    const tmp = `${recordFile(uuid)}.${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify({ dirs: [socketDir, scratchDir] }) + "\n", { mode: 0o600, flag: "w" });
    fs.renameSync(tmp, recordFile(uuid));
    for (const dir of [socketDir, scratchDir]) {
        fs.mkdirSync(dir, { mode: 0o700 });  // fails if anything is there: never a directory of someone else
        if (owner)
            fs.chownSync(dir, owner.uid, owner.gid);
    }
    return { socket: path.join(socketDir, "nbd.sock"), scratchDir };
}

/** Removes the job directories of the VM's last run (this one's, or a dead one's) and their record. */
export function removeJobDirs(uuid: string): void {
    let dirs: unknown;
    try {
        dirs = (JSON.parse(fs.readFileSync(recordFile(uuid), "utf8")) as { dirs?: unknown }).dirs;
    } catch {
        return;  // no record: nothing left
    }
    // Only names this module makes: a damaged record must not remove anything else.
    const ours = new RegExp(`^virtnbdbackup\\.${uuid.replace(/[^A-Za-z0-9-]/g, "")}\\.[0-9a-f]{16}$|^${uuid.replace(/[^A-Za-z0-9-]/g, "")}\\.[0-9a-f]{16}$`);
    for (const dir of Array.isArray(dirs) ? dirs : []) {
        if (typeof dir === "string" && path.isAbsolute(dir) && ours.test(path.basename(dir)))
            fs.rmSync(dir, { recursive: true, force: true });  // a symlink in its place is removed, not followed
    }
    fs.rmSync(recordFile(uuid), { force: true });
}

/** Whether a job's NBD socket is one this project made (so the job is one of ours). */
export function isOurSocket(socket: string): boolean {
    return path.dirname(path.dirname(path.resolve(socket))) === JOBS_DIR;
}
