// SPDX-License-Identifier: GPL-3.0-or-later
// Typed view of the parts of Cockpit's cockpit.js (base1, Cockpit 287) that this package uses.
// cockpit.js is loaded by index.html from the host (../base1/cockpit.js) and sets window.cockpit;
// no npm package ships it or its types, so the shapes below are written from 287's behaviour.

/** A jQuery-style promise as cockpit.js returns it: thenable, plus done/fail/always. */
export interface CockpitPromise<T> extends PromiseLike<T> {
    then<R1 = T, R2 = never>(
        onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
        onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
    ): CockpitPromise<R1 | R2>;
    catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): CockpitPromise<T | R>;
    finally(onfinally?: (() => void) | null): CockpitPromise<T>;
    done(callback: (value: T) => void): CockpitPromise<T>;
    fail(callback: (reason: unknown) => void): CockpitPromise<T>;
    always(callback: () => void): CockpitPromise<T>;
}

export interface SpawnOptions {
    /** "require": run as root through the privileged bridge; "try": root if possible. */
    superuser?: "require" | "try";
    /** "message": stderr becomes the failure's message; "out": merged into stdout; "ignore". */
    err?: "out" | "ignore" | "message";
    /** Extra "NAME=value" entries added to the process environment. */
    environ?: string[];
    directory?: string;
    binary?: false;
}

/** What a failed spawn rejects with in 287: a plain object, not an Error. */
export interface SpawnFailure {
    problem: string | null;
    exit_status: number | null;
    exit_signal: number | null;
    message: string;
}

export interface SpawnPromise extends CockpitPromise<string> {
    stream(callback: (data: string) => void): SpawnPromise;
    input(data?: string | Uint8Array, stream?: boolean): SpawnPromise;
    close(problem?: string): SpawnPromise;
}

export interface FileHandle<T = string> {
    read(): CockpitPromise<T | null>;
    replace(content: T | null, expectedTag?: string): CockpitPromise<string>;
    watch(callback: (content: T | null, tag: string | null, error?: unknown) => void, options?: { read?: boolean }): { remove(): void };
    close(): void;
}

export interface FileOptions {
    superuser?: "require" | "try";
    binary?: boolean;
    max_read_size?: number;
}

export interface CockpitLocation {
    readonly path: string[];
    readonly options: Record<string, string | string[]>;
    readonly href: string;
    go(path: string[] | string, options?: Record<string, string>): void;
    replace(path: string[] | string, options?: Record<string, string>): void;
}

/** cockpit.permission(): `allowed` is null until known, then true/false; fires "changed". */
export interface Permission {
    allowed: boolean | null;
    addEventListener(event: "changed", listener: () => void): void;
    removeEventListener(event: "changed", listener: () => void): void;
    close(): void;
}

export type CockpitEvent = "locationchanged" | "visibilitychange";

export interface ChannelOptions {
    payload: string;
    superuser?: "require" | "try";
    [option: string]: unknown;
}

/** A text channel to the bridge; 287 calls listeners with (event, data) and closes with (event, options). */
export interface Channel {
    addEventListener(type: "message", listener: (event: unknown, data: string) => void): void;
    addEventListener(type: "close", listener: (event: unknown, options: { problem?: string }) => void): void;
    close(problem?: string): void;
}

export interface Cockpit {
    gettext(message: string): string;
    gettext(context: string, message: string): string;
    ngettext(singular: string, plural: string, n: number): string;
    ngettext(context: string, singular: string, plural: string, n: number): string;
    noop<T extends string>(message: T): T;

    spawn(argv: string[], options?: SpawnOptions): SpawnPromise;
    file(path: string, options?: FileOptions): FileHandle;
    channel(options: ChannelOptions): Channel;
    /** 287 takes the base as a number: 1000 (default) or 1024. */
    format_bytes(bytes: number, base?: 1000 | 1024): string;
    format(template: string, ...args: unknown[]): string;
    message(problem: string | { problem?: string | null; message?: string }): string;

    permission(options?: { admin?: boolean; group?: string }): Permission;

    /** The bridge connection: uri("channel/" + csrf_token) is the base of external channel URLs (downloads). */
    readonly transport: { readonly csrf_token: string; uri(suffix?: string): string };

    readonly location: CockpitLocation;
    readonly hidden: boolean;
    addEventListener(event: CockpitEvent, listener: () => void): void;
    removeEventListener(event: CockpitEvent, listener: () => void): void;

    /** Language of the loaded translations ("en" when none), set by po.js through cockpit.locale(). */
    readonly language: string;
    readonly language_direction: "ltr" | "rtl";
}

declare global {
    interface Window {
        cockpit: Cockpit;
    }
}

const cockpit: Cockpit = window.cockpit;
export default cockpit;
