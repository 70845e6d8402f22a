// SPDX-License-Identifier: GPL-3.0-or-later
// The virtnbdbackup stream format (version 2) and backup folder names: pure code, no I/O.
export * from "./errors.ts";
export * from "./frame.ts";
export * from "./meta.ts";
export * from "./trailer.ts";
export * from "./adler32.ts";
export * from "./lz4-frame.ts";
export * from "./names.ts";
export { pyJsonDumps, pyJsonString, type PyJsonValue } from "./pyjson.ts";
