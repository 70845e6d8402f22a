// SPDX-License-Identifier: GPL-3.0-or-later
// Chains in a VM's backup folder. Pure: no I/O.
//
// A VM's backup folder holds one or more chains, each a complete virtnbdbackup folder:
//   <folder>/            the first ("legacy") chain: its files directly in the folder, as the Python tool
//                        and earlier versions wrote them (only a chain when it holds backup files)
//   <folder>/chain-2/    later chains, numbered in the order they were started: the highest is the newest
//   <folder>/chain-3/
// Each is readable as is by the real virtnbdrestore (`virtnbdrestore -i <folder>/chain-2 ...`).

export const CHAIN_PREFIX = "chain-";
/** No VM folder gets anywhere near this many chains; bigger numbers are not ours. */
const MAX_CHAIN_NUMBER = 999_999;

/** `chain-<n>`. */
export function chainFolderName(n: number): string {
    if (!Number.isSafeInteger(n) || n < 2 || n > MAX_CHAIN_NUMBER)
        throw new Error(`invalid chain number ${n}`);
    return `${CHAIN_PREFIX}${n}`;
}

/** The number of a chain subfolder's name, or undefined when the name is not one. */
export function chainNumber(name: string): number | undefined {
    const m = /^chain-([1-9][0-9]{0,5})$/.exec(name);
    if (!m)
        return undefined;
    const n = Number(m[1]);
    return n >= 2 ? n : undefined;
}

/** The name of the next chain after the given subfolder names (the folder itself is chain 1). */
export function nextChainName(existing: string[]): string {
    const numbers = existing.map(chainNumber).filter((n): n is number => n !== undefined);
    return chainFolderName(Math.max(1, ...numbers) + 1);
}

/** Chain names ("" for the folder itself), oldest first. */
export function sortChains(names: string[]): string[] {
    return [...names].sort((a, b) => (a === "" ? 1 : chainNumber(a)!) - (b === "" ? 1 : chainNumber(b)!));
}

/** Parent and base name of an absolute path, without trailing slashes. */
function split(p: string): { parent: string; base: string } {
    const clean = p.replace(/\/+$/, "");
    const i = clean.lastIndexOf("/");
    return { parent: clean.slice(0, i) || "/", base: clean.slice(i + 1) };
}

/**
 * Whether `other` is an older chain of the same VM folder than `folder` (which starts a new chain after it):
 * `<vm>/chain-M` before `<vm>/chain-N` (M < N), or the folder itself (the first chain) before a chain subfolder.
 */
export function isOlderSiblingChain(folder: string, other: string): boolean {
    if (!isSiblingChain(folder, other))
        return false;
    const number = (p: string) => chainNumber(split(p).base) ?? 1;
    return number(other) < number(folder);
}

/**
 * Whether `other` is another chain of the same VM folder as `folder`: siblings `<vm>/chain-N`, or the
 * folder itself (the first chain) and one of its chain subfolders.
 */
export function isSiblingChain(folder: string, other: string): boolean {
    const a = split(folder), b = split(other);
    if (folder.replace(/\/+$/, "") === other.replace(/\/+$/, ""))
        return false;
    const aChain = chainNumber(a.base) !== undefined, bChain = chainNumber(b.base) !== undefined;
    if (aChain && bChain)
        return a.parent === b.parent;
    if (aChain)
        return a.parent === other.replace(/\/+$/, "");
    if (bChain)
        return b.parent === folder.replace(/\/+$/, "");
    return false;
}
