// SPDX-License-Identifier: GPL-3.0-or-later
// The browse commands' values, checked before anything runs (one function per command): the helper runs
// as root for a web page. Each returns the values to use or throws one line saying what is wrong.
import fs from "node:fs";
import path from "node:path";
import { checkTrustedPath } from "../fs/trusted-folder.ts";
import { parseGuestPath } from "./guest-path.ts";
import { isSessionId } from "./paths.ts";

export class BrowseArgumentError extends Error {
    override readonly name = "BrowseArgumentError";
}

const MIN_IDLE = 5;
const MAX_IDLE = 24 * 3600;
export const DEFAULT_IDLE_SECONDS = 15 * 60;

/**
 * browse-open: the NBD socket must be a unix socket of root's in a folder only root can change (a user's
 * socket could serve a crafted file system to the kernel); the export name and the socket path carry no
 * comma (qemu's option syntax).
 */
export function checkOpenArgs(opts: { socket: string; export?: string; idleSeconds?: string }): { socket: string; exportName: string; idleSeconds: number } {
    const socket = opts.socket;
    if (!path.isAbsolute(socket) || path.normalize(socket) !== socket || socket.includes(",") || /[\u0000-\u001f]/.test(socket))
        throw new BrowseArgumentError("--socket must be an absolute, normalized path without commas");
    let st: fs.Stats;
    try {
        st = fs.lstatSync(socket);
    } catch {
        throw new BrowseArgumentError(`${socket} does not exist`);
    }
    if (!st.isSocket() || st.uid !== 0 && st.uid !== process.geteuid?.())
        throw new BrowseArgumentError(`${socket} is not a unix socket of root's`);
    try {
        checkTrustedPath(path.dirname(socket), "the NBD socket's folder", {}, false);
    } catch (e) {
        throw new BrowseArgumentError((e as Error).message);
    }
    const exportName = opts.export ?? "";
    if (exportName.length > 256 || !/^[A-Za-z0-9._:-]*$/.test(exportName))
        throw new BrowseArgumentError("--export: letters, digits and . _ : - only");
    return { socket, exportName, idleSeconds: checkIdleSeconds(opts.idleSeconds) };
}

/** --idle-seconds (browse-open, browse-point): a whole number in range, default DEFAULT_IDLE_SECONDS. */
export function checkIdleSeconds(value: string | undefined): number {
    if (value === undefined)
        return DEFAULT_IDLE_SECONDS;
    const idleSeconds = Number(value);
    if (!/^\d+$/.test(value) || idleSeconds < MIN_IDLE || idleSeconds > MAX_IDLE)
        throw new BrowseArgumentError(`--idle-seconds must be a whole number from ${MIN_IDLE} to ${MAX_IDLE}`);
    return idleSeconds;
}

/** --session alone (browse-close, browse-keep). */
export function checkSessionArg(opts: { session: string }): { session: string } {
    if (!isSessionId(opts.session))
        throw new BrowseArgumentError("--session is not a browse session id");
    return { session: opts.session };
}

/** browse-list, browse-read, browse-tar: a session, one of its volumes, a guest path. */
export function checkPathArgs(opts: { session: string; volume: string; path: string }): { session: string; volume: string; path: string } {
    const { session } = checkSessionArg(opts);
    if (!/^(disk|p\d{1,3})$/.test(opts.volume))
        throw new BrowseArgumentError("--volume must be 'disk' or p<N>");
    try {
        return { session, volume: opts.volume, path: parseGuestPath(opts.path) };
    } catch (e) {
        throw new BrowseArgumentError(`--path: ${(e as Error).message}`);
    }
}

/** browse-restore: checkPathArgs plus the host folder (absolute; its trust is checked when it is prepared). */
export function checkRestoreArgs(opts: { session: string; volume: string; path: string; to: string }): { session: string; volume: string; path: string; to: string } {
    const checked = checkPathArgs(opts);
    if (!path.isAbsolute(opts.to) || /[\u0000-\u001f]/.test(opts.to))
        throw new BrowseArgumentError("--to must be an absolute host folder");
    return { ...checked, to: path.normalize(opts.to) };
}
