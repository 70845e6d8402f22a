// SPDX-License-Identifier: GPL-3.0-or-later
// What the benchmark builds and how often it measures: the full run (npm run bench) and the smoke run
// (--smoke, for npm test). Sizes are in bytes.
import type { Write } from "../../test/lib/vm.ts";

const MiB = 2 ** 20;

export interface BenchConfig {
    name: "full" | "smoke";
    diskSize: string;
    /** The disk's initial content: random (incompressible), text (compressible) and zeroed ranges. */
    writes: Write[];
    /** Timed repetitions of every measurement. */
    reps: number;
    /** Run the Python tools everywhere (false: only one plain full, whose files the restore row reads). */
    python: boolean;
    /** Dirty bytes of the two incremental sizes (live writes between the backups). */
    incSmall: number;
    incLarge: number;
    /** A second VM whose big disk is nearly empty: what planning the extents of a big sparse disk costs. */
    sparse: { diskSize: string; bytes: number; writes: Write[] };
}

/** `count` 1 MiB random writes spread evenly over a disk of `diskBytes`. */
function scattered(diskBytes: number, count: number): Write[] {
    const step = Math.floor(diskBytes / count / MiB) * MiB;
    return Array.from({ length: count }, (_, i) => ({ offset: i * step + (i % 7) * MiB, length: MiB, random: true as const, seed: 500 + i }));
}

const TEXT = "The quick brown fox backs up the lazy dog's disk; incremental, thin, and exact. 0123456789\n";

export const FULL: BenchConfig = {
    name: "full",
    diskSize: "4G",
    // 1264 MiB (1.33 GB) of data, 65 % random; zero writes both over data and into unallocated space.
    writes: [
        { offset: 0, length: 384 * MiB, random: true, seed: 11 },
        { offset: 512 * MiB, length: 256 * MiB, text: TEXT },
        { offset: 1024 * MiB, length: 256 * MiB, random: true, seed: 12 },
        { offset: 1100 * MiB, length: 16 * MiB, zero: true },
        { offset: 1536 * MiB, length: 128 * MiB, text: TEXT.toUpperCase() },
        { offset: 2048 * MiB, length: 128 * MiB, random: true, seed: 13 },
        { offset: 2500 * MiB, length: 64 * MiB, zero: true },
        { offset: 3072 * MiB, length: 64 * MiB, random: true, seed: 14 },
        { offset: 3500 * MiB, length: 64 * MiB, text: TEXT.repeat(3) + "#" },
        { offset: 3900 * MiB, length: 32 * MiB, zero: true },
    ],
    reps: 5,
    python: true,
    incSmall: 64 * MiB,
    incLarge: 512 * MiB,
    // 1 TiB with 64 MiB of data in 64 places (the Python tool once spent 18 minutes planning 800 GiB).
    sparse: { diskSize: "1T", bytes: 2 ** 40, writes: scattered(2 ** 40, 64) },
};

export const SMOKE: BenchConfig = {
    name: "smoke",
    diskSize: "256M",
    // 64 MiB of data.
    writes: [
        { offset: 0, length: 32 * MiB, random: true, seed: 21 },
        { offset: 64 * MiB, length: 24 * MiB, text: TEXT },
        { offset: 70 * MiB, length: 2 * MiB, zero: true },
        { offset: 128 * MiB, length: 10 * MiB, random: true, seed: 22 },
        { offset: 200 * MiB, length: 4 * MiB, zero: true },
    ],
    reps: 1,
    python: false,
    incSmall: 4 * MiB,
    incLarge: 16 * MiB,
    sparse: { diskSize: "64G", bytes: 64 * 2 ** 30, writes: scattered(64 * 2 ** 30, 8) },
};
