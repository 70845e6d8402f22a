// SPDX-License-Identifier: GPL-3.0-or-later
// `qemu-img convert` of a mapped disk (raw over NBD) into an image that exists and reads as zeroes
// (-n --target-is-zero: the image keeps the options it was created with, and holes are not written).
// Progress from -p; cancellation kills it.
import { spawn, type ChildProcess } from "node:child_process";

export interface ConvertOptions {
    /** Output format (qcow2, raw). */
    format: string;
    /** Host cache mode of the output (qemu-img's -t). */
    cache: "none" | "writeback" | "unsafe";
    signal?: AbortSignal;
    /** Fraction done, 0..1. */
    onProgress?: (fraction: number) => void;
    /** The running process (for exit paths that must kill it at once). */
    onSpawn?: (child: ChildProcess) => void;
}

/** qemu-img convert arguments (without the binary). */
export function convertArgs(uri: string, output: string, format: string, cache: string): string[] {
    return ["convert", "-p", "-n", "--target-is-zero", "-W", "-m", "16", "-t", cache, "-f", "raw", "-O", format, uri, output];
}

/** Runs the convert; rejects with qemu-img's last message line. */
export function convertImage(uri: string, output: string, options: ConvertOptions): Promise<void> {
    const { signal, onProgress } = options;
    return new Promise((resolve, reject) => {
        signal?.throwIfAborted();
        const child = spawn("qemu-img", convertArgs(uri, output, options.format, options.cache), { stdio: ["ignore", "pipe", "pipe"] });
        options.onSpawn?.(child);
        let stderr = "";
        let pending = "";
        const onAbort = () => child.kill("SIGKILL");
        signal?.addEventListener("abort", onAbort);
        // -p prints "    (12.34/100%)" lines ending in \r.
        child.stdout.on("data", (b: Buffer) => {
            pending += b.toString("latin1");
            const parts = pending.split(/[\r\n]/);
            pending = parts.pop() ?? "";
            for (const part of parts) {
                const m = /\((\d+(?:\.\d+)?)\/100%\)/.exec(part);
                if (m)
                    onProgress?.(Number(m[1]) / 100);
            }
        });
        child.stderr.on("data", (b: Buffer) => {
            stderr = (stderr + b.toString("utf8")).slice(-4000);
        });
        child.on("error", e => {
            signal?.removeEventListener("abort", onAbort);
            reject(new Error(`cannot run qemu-img: ${e.message}`));
        });
        child.on("close", code => {
            signal?.removeEventListener("abort", onAbort);
            if (signal?.aborted)
                reject(signal.reason);
            else if (code === 0)
                resolve();
            else
                reject(new Error(`qemu-img convert failed: ${stderr.trim().split("\n").pop() || `exit ${code}`}`));
        });
    });
}
