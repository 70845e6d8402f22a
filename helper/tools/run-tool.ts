// SPDX-License-Identifier: GPL-3.0-or-later
// Running the host's tools (qemu-img, nbdinfo): argv arrays, stdout as text, a one-line error with stderr.
import { spawn } from "node:child_process";

export function runTool(cmd: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => err.push(b));
        child.on("error", e => reject(new Error(`cannot run ${cmd}: ${e.message}`)));
        child.on("close", code => {
            if (code === 0)
                resolve(Buffer.concat(out).toString("utf8"));
            else
                reject(new Error(`${cmd} ${args[0] ?? ""} failed: ${Buffer.concat(err).toString("utf8").trim() || `exit ${code}`}`));
        });
    });
}

/** `qemu-img info --output json` of an image, also while a VM has it open. */
export function qemuImgInfo(image: string): Promise<string> {
    return runTool("qemu-img", ["info", "--output", "json", "--force-share", image]);
}
