// SPDX-License-Identifier: GPL-3.0-or-later
// Correctness checks made on the way: a benchmark of a wrong backup or restore is worthless, so a failed
// check stops the run (exit 1).
import { compareImages } from "../../test/lib/vm.ts";

export class CorrectnessError extends Error {
    override name = "CorrectnessError";
}

export class Checks {
    readonly passed: string[] = [];

    /** qemu-img compare of an image with the expected raw image; throws on any difference. */
    async sameImage(label: string, image: string, expected: string): Promise<void> {
        const r = await compareImages(image, expected);
        if (!r.identical)
            throw new CorrectnessError(`${label}: ${image} differs from the expected image: ${r.output}`);
        this.passed.push(label);
        log(`  check ok: ${label}`);
    }
}

export function log(message: string): void {
    process.stderr.write(`${message}\n`);
}
