// SPDX-License-Identifier: GPL-3.0-or-later
// A small full-backup stream written out by hand from the format description, byte for byte:
// a 16-byte disk with "abcd" at 0, zeroes at 4..12, "wxyz" at 12.
import type { Extent } from "../../../helper/engine/endpoint.ts";
import { streamDataSize } from "../../../helper/engine/stream-sink.ts";
import type { StreamMeta } from "../../../helper/format/index.ts";

export const knownMeta: StreamMeta = {
    virtualSize: 16,
    dataSize: 8,
    date: "2024-01-02T03:04:05.678901",
    diskName: "vda",
    diskFormat: "qcow2",
    checkpointName: "virtnbdbackup.0",
    compressed: false,
    compressionMethod: "lz4",
    parentCheckpoint: "",
    incremental: false,
    streamVersion: 2,
};

export const knownDisk = Buffer.from("abcd\0\0\0\0\0\0\0\0wxyz", "latin1");

export const knownExtents: Extent[] = [
    { offset: 0, length: 4, data: true },
    { offset: 4, length: 8, data: false },
    { offset: 12, length: 4, data: true },
];

const metaJson = "{\n" +
    "    \"virtualSize\": 16,\n" +
    "    \"dataSize\": 8,\n" +
    "    \"date\": \"2024-01-02T03:04:05.678901\",\n" +
    "    \"diskName\": \"vda\",\n" +
    "    \"diskFormat\": \"qcow2\",\n" +
    "    \"checkpointName\": \"virtnbdbackup.0\",\n" +
    "    \"compressed\": false,\n" +
    "    \"compressionMethod\": \"lz4\",\n" +
    "    \"parentCheckpoint\": \"\",\n" +
    "    \"incremental\": false,\n" +
    "    \"streamVersion\": 2\n" +
    "}";

export const knownStream = Buffer.from(
    `meta 0000000000000000 ${metaJson.length.toString(16).padStart(16, "0")}\r\n` + metaJson + "\r\n" +
    "data 0000000000000000 0000000000000004\r\n" + "abcd" + "\r\n" +
    "zero 0000000000000004 0000000000000008\r\n" +
    "data 000000000000000c 0000000000000004\r\n" + "wxyz" + "\r\n" +
    "stop 0000000000000000 0000000000000000\r\n",
    "latin1",
);

/** The known meta, fitted to another disk and extent plan (and any keys the test changes). */
export function metaFor(extents: Extent[], virtualSize: number, patch: Partial<StreamMeta> = {}): StreamMeta {
    return { ...knownMeta, virtualSize, dataSize: streamDataSize(extents), ...patch };
}
