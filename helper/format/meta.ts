// SPDX-License-Identifier: GPL-3.0-or-later
import { FormatError, oneLineMessage } from "./errors.ts";
import { pyJsonDumps } from "./pyjson.ts";

/** The meta frame's JSON (stream version 2). Key order here is the order the other tool writes. */
export interface StreamMeta {
    /** Disk size in bytes (NBD export size). */
    virtualSize: number;
    /** Sum of the uncompressed lengths of all data frames. */
    dataSize: number;
    /** ISO-8601 local time, as Python's datetime.now().isoformat() writes it. */
    date: string;
    /** Target dev (vda, sda); also the NBD export name. */
    diskName: string;
    /** Driver type of the disk: qcow2 or raw. */
    diskFormat: string;
    /** full/copy: virtnbdbackup.0; inc: the new checkpoint; diff: virtnbdbackup.<count>. */
    checkpointName: string;
    /** false, or the lz4 level (any integer, even 0, means compressed: the other tool tests `is not False`). */
    compressed: false | number;
    compressionMethod: string;
    /** "" for full/copy, else the parent checkpoint. */
    parentCheckpoint: string;
    incremental: boolean;
    streamVersion: 2;
    /**
     * Our addition, written after the other tool's keys: the libvirt UUID of the VM the disk belongs to,
     * so that a restore can refuse another VM's file of the same name. Absent in the other tool's files;
     * both restorers ignore keys they do not know.
     */
    domainUuid?: string;
}

const KEY_ORDER = [
    "virtualSize", "dataSize", "date", "diskName", "diskFormat", "checkpointName",
    "compressed", "compressionMethod", "parentCheckpoint", "incremental", "streamVersion",
] as const satisfies readonly (keyof StreamMeta)[];

/** Our key, appended after KEY_ORDER when known. */
export const DOMAIN_UUID_KEY = "domainUuid";
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const COMPRESSION_METHOD = "lz4";

export function isCompressed(meta: Pick<StreamMeta, "compressed">): boolean {
    return meta.compressed !== false;
}

/** The meta JSON bytes, formatted like json.dumps(meta, indent=4) (no CRLF; the frame adds it). */
export function encodeMeta(meta: StreamMeta): Buffer {
    const checked = validateMeta(meta);
    const ordered: Record<string, string | number | boolean> = {};
    for (const key of KEY_ORDER) ordered[key] = checked[key];
    if (checked.domainUuid !== undefined) ordered[DOMAIN_UUID_KEY] = checked.domainUuid;
    return Buffer.from(pyJsonDumps(ordered, 4), "utf8");
}

/** Parses and validates meta JSON bytes. Errors name the bad key; callers add file and offset. */
export function parseMeta(json: Uint8Array | string): StreamMeta {
    const text = typeof json === "string" ? json : Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString("utf8");
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (err) {
        throw new FormatError(`meta frame is not valid JSON: ${oneLineMessage(err)}`);
    }
    return validateMeta(value);
}

function fail(key: string, problem: string): never {
    throw new FormatError(`meta key "${key}" ${problem}`);
}

function byteCount(obj: Record<string, unknown>, key: string): number {
    const v = obj[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
        fail(key, `must be an integer in 0..${Number.MAX_SAFE_INTEGER}, got ${JSON.stringify(v)}`);
    }
    return v;
}

function text(obj: Record<string, unknown>, key: string, nonEmpty: boolean): string {
    const v = obj[key];
    if (typeof v !== "string") fail(key, `must be a string, got ${JSON.stringify(v)}`);
    if (nonEmpty && v === "") fail(key, "must not be empty");
    return v;
}

/** Checks a parsed meta object; unknown extra keys are ignored (newer writers may add some); domainUuid is optional. */
export function validateMeta(value: unknown): StreamMeta {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new FormatError("meta frame JSON is not an object");
    }
    const obj = value as Record<string, unknown>;
    for (const key of KEY_ORDER) {
        if (!(key in obj)) fail(key, "is missing");
    }
    if (obj.streamVersion !== 2) fail("streamVersion", `must be 2, got ${JSON.stringify(obj.streamVersion)}`);
    const virtualSize = byteCount(obj, "virtualSize");
    const dataSize = byteCount(obj, "dataSize");
    if (dataSize > virtualSize) fail("dataSize", `(${dataSize}) exceeds virtualSize (${virtualSize})`);
    const compressed = obj.compressed;
    if (compressed !== false && (typeof compressed !== "number" || !Number.isSafeInteger(compressed))) {
        fail("compressed", `must be false or an integer lz4 level, got ${JSON.stringify(compressed)}`);
    }
    const compressionMethod = text(obj, "compressionMethod", false);
    if (compressed !== false && compressionMethod !== COMPRESSION_METHOD) {
        fail("compressionMethod", `must be "${COMPRESSION_METHOD}" for a compressed stream, got ${JSON.stringify(compressionMethod)}`);
    }
    if (typeof obj.incremental !== "boolean") fail("incremental", `must be true or false, got ${JSON.stringify(obj.incremental)}`);
    const uuid = obj[DOMAIN_UUID_KEY];
    if (uuid !== undefined && (typeof uuid !== "string" || !UUID_RE.test(uuid))) {
        fail(DOMAIN_UUID_KEY, `must be a UUID, got ${JSON.stringify(uuid)}`);
    }
    return {
        virtualSize,
        dataSize,
        date: text(obj, "date", false),
        diskName: text(obj, "diskName", true),
        diskFormat: text(obj, "diskFormat", true),
        checkpointName: text(obj, "checkpointName", false),
        compressed,
        compressionMethod,
        parentCheckpoint: text(obj, "parentCheckpoint", false),
        incremental: obj.incremental,
        streamVersion: 2,
        ...(uuid !== undefined ? { domainUuid: uuid as string } : {}),
    };
}

/** Local time like Python's datetime.now().isoformat(): no zone, microseconds only when non-zero. */
export function isoLocalDate(date: Date): string {
    const p = (n: number, w = 2) => String(n).padStart(w, "0");
    const base = `${p(date.getFullYear(), 4)}-${p(date.getMonth() + 1)}-${p(date.getDate())}` +
        `T${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
    const ms = date.getMilliseconds();
    return ms === 0 ? base : `${base}.${p(ms * 1000, 6)}`;
}
