// SPDX-License-Identifier: GPL-3.0-or-later
// Every libvirt call of the helper goes through the `virsh` client, with argv arrays.
//
// Why virsh and not a binding: there is no maintained libvirt binding for Node (the old npm packages are
// unmaintained and do not build on current Node/N-API, and none covers the backup and checkpoint APIs);
// writing our own N-API binding for libvirt would be a second native module to maintain. virsh ships with
// every libvirt host (libvirt-clients), speaks exactly the host's libvirt version, and exposes every API we
// need — domain XML, domblkinfo, backup-begin, domjobabort, checkpoint-create/-redefine/-delete. The cost
// is one short process per call (~18 ms of start and connect), or, for a backup run, one virsh shell for all
// its calls (virsh-session.ts); the XML it prints is parsed with fast-xml-parser (domain-xml.ts).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { SessionClosedError, VirshSession } from "./virsh-session.ts";
import { parseRoot, type XmlNode } from "./xml.ts";

/** The connection the helper uses unless -U/--uri says otherwise. */
export const DEFAULT_URI = "qemu:///system";

/** Error kinds callers act on; everything else is "other". */
export type LibvirtErrorCode =
    | "no-domain"          // no domain with that name/uuid
    | "no-checkpoint"      // no checkpoint with that name
    | "not-running"        // the operation needs a running domain
    | "invalid-operation"  // libvirt refused the operation in the domain's current state
    | "unavailable"        // cannot connect: libvirtd not running, wrong socket, no permission
    | "timeout"            // virsh did not finish in time and was killed
    | "no-virsh"           // the virsh binary is missing
    | "other";

/** A failed virsh call, with a one-line message made from virsh's stderr. */
export class LibvirtError extends Error {
    override readonly name = "LibvirtError";
    constructor(message: string, readonly code: LibvirtErrorCode, readonly uri: string, readonly args: readonly string[]) {
        super(message);
    }
}

export interface VirshOptions {
    /** Connection URI; DEFAULT_URI when not given. */
    uri?: string;
    /** Written to virsh's stdin (e.g. XML for `define /dev/stdin`). */
    input?: string;
    /** Kill virsh after this long; default 60 s. */
    timeoutMs?: number;
    /** Open a read-only connection (-r): enough for queries. */
    readonly?: boolean;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** The process's virsh shell (virsh-session.ts), while a run has one open. */
let session: VirshSession | undefined;

/**
 * From now on the calls on `uri` that need no input and no read-only connection go through one virsh
 * shell, until closeVirshSession(). For a process that makes one run: calls come in its order anyway.
 */
export function openVirshSession(uri = DEFAULT_URI): void {
    session?.close();
    session = new VirshSession(uri);
}

export function closeVirshSession(): void {
    session?.close();
    session = undefined;
}

/** The command through the shell when one is open for it; undefined when it must run on its own. */
async function throughSession(args: readonly string[], opts: VirshOptions): Promise<VirshRun | undefined> {
    if (!session || session.uri !== (opts.uri ?? DEFAULT_URI) || opts.input !== undefined || opts.readonly)
        return undefined;
    try {
        const a = await session.run(args.map(quoteVirshArg).join(" "), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
        // The shell has no exit status: a command failed when virsh printed an error for it.
        return { code: /^error:/m.test(a.stderr) ? 1 : 0, stdout: a.stdout, stderr: a.stderr };
    } catch (err) {
        if (!(err instanceof SessionClosedError))
            throw err;
        if (!err.started)
            return undefined;
        // The shell had the command: it may have run, so it is not run again.
        const uri = opts.uri ?? DEFAULT_URI;
        if (/did not answer within/.test(err.message))
            throw new LibvirtError(`virsh ${args[0] ?? ""} did not finish within ${(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000} s`, "timeout", uri, args);
        throw new LibvirtError(`virsh ${args[0] ?? ""}: ${err.message}`, "other", uri, args);
    }
}

/** Runs `virsh -c URI ARGS...` and resolves with its stdout; rejects with a LibvirtError. */
export async function virsh(args: readonly string[], opts: VirshOptions = {}): Promise<string> {
    const uri = opts.uri ?? DEFAULT_URI;
    const r = await throughSession(args, opts) ?? await runVirsh(args, args, opts);
    if (r.code === 0)
        return r.stdout;
    throw new LibvirtError(cleanMessage(r.stderr) || `virsh ${args[0] ?? ""} failed (exit ${r.code})`, classify(r.stderr), uri, args);
}

/** What a batch printed: each command's stdout (empty when it failed), and all error lines together. */
export interface VirshBatchResult {
    outputs: string[];
    stderr: string;
}

/** Linux takes at most 128 KiB per argument (MAX_ARG_STRLEN): longer scripts are split over several virsh runs. */
const MAX_SCRIPT_BYTES = 100_000;

/**
 * Runs several virsh commands in one virsh process and one connection (virsh's "cmd; cmd" form), which costs
 * about what one command costs; a very long list takes a few processes, one after the other. A failing command
 * does not stop the others: its output is empty and its error is in `stderr`. Rejects only when virsh cannot
 * run or cannot connect at all.
 */
export async function virshBatch(commands: readonly (readonly string[])[], opts: VirshOptions = {}): Promise<VirshBatchResult> {
    const viaSession = await batchThroughSession(commands, opts);
    if (viaSession)
        return viaSession;
    const outputs: string[] = [];
    let stderr = "";
    // Each command's output starts after a line only this call prints.
    const marker = `@@vnb-${randomBytes(8).toString("hex")}`;
    let chunk: string[] = [];  // commands as virsh reads them
    let bytes = 0;
    const flush = async () => {
        if (chunk.length === 0)
            return;
        const r = await runScript(chunk, marker, opts);
        outputs.push(...r.outputs);
        stderr += r.stderr;
        chunk = [];
        bytes = 0;
    };
    for (const c of commands) {
        const command = c.map(quoteVirshArg).join(" ");
        const size = Buffer.byteLength(command) + marker.length + 20;
        if (bytes + size > MAX_SCRIPT_BYTES)
            await flush();
        chunk.push(command);
        bytes += size;
    }
    await flush();
    return { outputs, stderr };
}

/** The batch through the open shell, one command after another (each answer known by itself). */
async function batchThroughSession(commands: readonly (readonly string[])[], opts: VirshOptions): Promise<VirshBatchResult | undefined> {
    const answers = await Promise.all(commands.map(c => throughSession(c, opts)));
    if (answers.some(a => a === undefined))
        return undefined;  // the shell went away: the whole batch again, as one process (its commands only ask)
    const runs = answers as VirshRun[];
    if (runs.some(r => classify(r.stderr) === "unavailable"))
        throw new LibvirtError(cleanMessage(runs.map(r => r.stderr).join("")), "unavailable", opts.uri ?? DEFAULT_URI, [`batch of ${commands.length}`]);
    // As a one-process batch gives them: a failed command's output is empty, blank output is none.
    return {
        outputs: runs.map(r => (r.code !== 0 || r.stdout.trim() === "" ? "" : r.stdout)),
        stderr: runs.map(r => r.stderr).join(""),
    };
}

/** One virsh run of the commands, each after an "echo MARKER-N"; each command's output, in order. */
async function runScript(commands: string[], marker: string, opts: VirshOptions): Promise<VirshBatchResult> {
    const uri = opts.uri ?? DEFAULT_URI;
    const summary = [`batch of ${commands.length}`];
    const r = await runVirsh([commands.map((c, i) => `echo ${marker}-${i}; ${c}`).join("; ")], summary, opts);
    if (classify(r.stderr) === "unavailable")
        throw new LibvirtError(cleanMessage(r.stderr), "unavailable", uri, summary);
    const outputs: string[] = new Array(commands.length).fill("");
    let current = -1;
    let lines: string[] = [];
    const keep = () => {
        if (current >= 0 && current < commands.length)
            outputs[current] = lines.join("\n");
    };
    for (const line of r.stdout.split("\n")) {
        const m = line.startsWith(marker + "-") ? /^(\d+)$/.exec(line.slice(marker.length + 1)) : null;
        if (m) {
            keep();
            current = Number(m[1]);
            lines = [];
        } else {
            lines.push(line);
        }
    }
    keep();
    // "echo" ends its line and virsh adds an empty line after most commands: an output of only blank lines is none.
    return { outputs: outputs.map(o => (o.trim() === "" ? "" : o)), stderr: r.stderr };
}

/** virsh's command-line parser takes quotes as a shell does; plain words are left as they are. */
export function quoteVirshArg(arg: string): string {
    return /^[A-Za-z0-9@%+=:,./_-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

interface VirshRun { code: number | null; stdout: string; stderr: string }

/** Spawns virsh; resolves with whatever it printed, rejects only when it cannot run or times out. */
function runVirsh(args: readonly string[], label: readonly string[], opts: VirshOptions): Promise<VirshRun> {
    const uri = opts.uri ?? DEFAULT_URI;
    const argv = ["-c", uri, ...(opts.readonly ? ["-r"] : []), ...args];
    return new Promise((resolve, reject) => {
        // LC_ALL=C: the error texts are classified below and must not be translated.
        const child = spawn("virsh", argv, { env: { ...process.env, LC_ALL: "C" }, stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let timedOut = false;
        const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
        const timer = setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
        }, timeoutMs);
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => err.push(b));
        child.on("error", e => {
            clearTimeout(timer);
            const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
            reject(new LibvirtError(missing ? "virsh not found: is libvirt-clients installed?" : `cannot run virsh: ${e.message}`,
                                    missing ? "no-virsh" : "other", uri, label));
        });
        child.on("close", code => {
            clearTimeout(timer);
            if (timedOut) {
                reject(new LibvirtError(`virsh ${label[0] ?? ""} did not finish within ${timeoutMs / 1000} s`, "timeout", uri, label));
                return;
            }
            resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
        });
        child.stdin.on("error", () => {});  // virsh may exit without reading its input
        child.stdin.end(opts.input);
    });
}

/** virsh prints "error: a" / "error: b" lines; make them one line "a: b". */
export function cleanMessage(stderr: string): string {
    const parts: string[] = [];
    for (const raw of stderr.split("\n")) {
        const line = raw.replace(/^error:\s*/i, "").trim();
        if (line && !parts.includes(line))
            parts.push(line);
    }
    return parts.join(": ");
}

/** Maps virsh's (untranslated) error text to a LibvirtErrorCode. */
export function classify(stderr: string): LibvirtErrorCode {
    if (/failed to connect to the hypervisor|Failed to connect socket|no connection driver available|authentication failed|Cannot recv data|End of file while reading data/i.test(stderr))
        return "unavailable";
    if (/Domain not found|failed to get domain/i.test(stderr))
        return "no-domain";
    if (/checkpoint not found|no domain checkpoint with matching name|failed to get checkpoint/i.test(stderr))
        return "no-checkpoint";
    if (/domain is not running/i.test(stderr))
        return "not-running";
    if (/Requested operation is not valid|Operation not supported/i.test(stderr))
        return "invalid-operation";
    return "other";
}

/** Runs a virsh command that prints an XML document (dumpxml, checkpoint-dumpxml, ...) and returns it parsed. */
export async function virshXml(args: readonly string[], rootName: string, opts: VirshOptions = {}): Promise<XmlNode> {
    return parseRoot(await virsh(args, opts), rootName);
}
