// SPDX-License-Identifier: GPL-3.0-or-later
// A restore point as the page names it: its name, prefixed by its chain subfolder when it is not in the
// backup folder itself ("chain-2/virtnbdbackup.1"); point names repeat from chain to chain. Pure.

export function pointKey(point: { name: string; chain?: string }): string {
    return point.chain ? `${point.chain}/${point.name}` : point.name;
}

/** The helper's --chain/--point arguments for a key. */
export function pointArgs(key: string): string[] {
    const slash = key.indexOf("/");
    return slash < 0 ? ["--point", key] : ["--chain", key.slice(0, slash), "--point", key.slice(slash + 1)];
}
