// SPDX-License-Identifier: GPL-3.0-or-later
// The virtnbdbackup stream format (version 2) and backup folder names: pure code, no I/O, no native
// binding (the adler32 of checksums is in engine/adler32.ts; the lint keeps this so).
export * from "./errors.ts";
export * from "./frame.ts";
export * from "./meta.ts";
export * from "./trailer.ts";
export * from "./lz4-frame.ts";
export * from "./names.ts";
export { pyJsonDumps, pyJsonString, type PyJsonValue } from "./pyjson.ts";
export * from "./stream-scan.ts";
