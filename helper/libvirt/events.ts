// SPDX-License-Identifier: GPL-3.0-or-later
// Domain lifecycle events (started, stopped, defined, undefined, ...) as `virsh event --loop` prints them,
// so that a page can follow the host's VMs without asking again and again.
import { spawn } from "node:child_process";
import { classify, cleanMessage, DEFAULT_URI, LibvirtError } from "./virsh.ts";

/** One lifecycle event: the domain's name and what happened ("Started", "Stopped", "Defined", ...). */
export interface LifecycleEvent {
    domain: string;
    event: string;
}

/** Parses one line of `virsh event --event lifecycle`; null for any other line. */
export function parseLifecycleLine(line: string): LifecycleEvent | null {
    const m = /^event 'lifecycle' for domain '(.*)': (\S+)/.exec(line);
    return m ? { domain: m[1]!, event: m[2]! } : null;
}

/**
 * Follows lifecycle events until `signal` aborts (resolves) or virsh ends by itself, e.g. because libvirtd
 * went away (rejects with a LibvirtError).
 */
export function watchLifecycle(onEvent: (e: LifecycleEvent) => void, opts: { uri?: string; signal: AbortSignal }): Promise<void> {
    const uri = opts.uri ?? DEFAULT_URI;
    const args = ["event", "--loop", "--event", "lifecycle"];
    return new Promise((resolve, reject) => {
        const child = spawn("virsh", ["-c", uri, "-r", ...args], { env: { ...process.env, LC_ALL: "C" }, stdio: ["ignore", "pipe", "pipe"] });
        const stop = () => child.kill("SIGTERM");
        opts.signal.addEventListener("abort", stop, { once: true });
        let pending = "";
        const err: Buffer[] = [];
        child.stdout.setEncoding("utf8");
        child.stdout.on("data", (text: string) => {
            const lines = (pending + text).split("\n");
            pending = lines.pop()!;
            for (const line of lines) {
                const e = parseLifecycleLine(line);
                if (e)
                    onEvent(e);
            }
        });
        child.stderr.on("data", (b: Buffer) => err.push(b));
        child.on("error", e => {
            opts.signal.removeEventListener("abort", stop);
            const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
            reject(new LibvirtError(missing ? "virsh not found: is libvirt-clients installed?" : `cannot run virsh: ${e.message}`,
                                    missing ? "no-virsh" : "other", uri, args));
        });
        child.on("close", code => {
            opts.signal.removeEventListener("abort", stop);
            if (opts.signal.aborted) {
                resolve();
                return;
            }
            const stderr = Buffer.concat(err).toString("utf8");
            reject(new LibvirtError(cleanMessage(stderr) || `virsh event ended (exit ${code})`, classify(stderr), uri, args));
        });
    });
}
