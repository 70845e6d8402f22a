// SPDX-License-Identifier: GPL-3.0-or-later
// Validation of command-line values. The helper runs as root on behalf of a web page: every value is
// checked before it reaches a child process, even though child processes only ever get argv arrays.
import { InvalidArgumentError } from "commander";
import { checkInstantName } from "../../protocol/instant-rules.ts";
import { chainNumber } from "../../format/chain-folders.ts";
import { MAX_KEEP_POINTS } from "../../protocol/retention-rules.ts";
import { localUriProblem, uriProblem } from "../../libvirt/uri.ts";

/** -U of the CLIs: a libvirt connection URI that runs nothing and connects nowhere of its choosing (libvirt/uri.ts). */
export function parseUri(value: string): string {
    const problem = uriProblem(value);
    if (problem)
        throw new InvalidArgumentError(problem);
    return value;
}

/** -U of the page's helper: the local system connection only. */
export function parseLocalUri(value: string): string {
    const problem = localUriProblem(value);
    if (problem)
        throw new InvalidArgumentError(problem);
    return value;
}

/** A restore point name as listed (virtnbdbackup.N, a diff's unix time, copy): no path, no option look-alike. */
export function parsePointName(value: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(value) || value.includes(".."))
        throw new InvalidArgumentError("not a restore point name");
    return value;
}

/** --chain: a chain subfolder's name as listed (chain-N); "" is the VM folder itself. */
export function parseChainName(value: string): string {
    if (value !== "" && chainNumber(value) === undefined)
        throw new InvalidArgumentError("not a chain name (chain-N, or empty for the backup folder itself)");
    return value;
}

/** --disk: a disk's target dev as libvirt names it (vda, sdb, hdc, xvda, nvme0n1). */
export function parseDiskName(value: string): string {
    if (!/^[a-z]{1,8}[a-z0-9]{0,12}$/.test(value))
        throw new InvalidArgumentError("not a disk target name (vda, sdb, ...)");
    return value;
}

/** --keep-points of consolidate: how many restore points of the chain stay, a whole number from 1. */
export function parseKeepPointsArg(value: string): number {
    const n = /^[0-9]{1,6}$/.test(value) ? Number(value) : NaN;
    if (!(n >= 1 && n <= MAX_KEEP_POINTS))
        throw new InvalidArgumentError(`not a number of restore points from 1 to ${MAX_KEEP_POINTS}`);
    return n;
}

/** --name of a VM started from a backup: also its record's file name (instant-record.ts). */
export function parseInstantName(value: string): string {
    if (checkInstantName(value) !== null)
        throw new InvalidArgumentError("not a usable virtual machine name (letters, digits, . _ -, at most 64)");
    return value;
}
