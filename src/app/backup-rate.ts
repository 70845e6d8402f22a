// SPDX-License-Identifier: GPL-3.0-or-later
// Throughput and time left of a running job, from successive (time, bytes done) samples taken from
// the state file. Pure: no clock, no cockpit.js.

export interface Sample {
    /** ms since the epoch (the state file's updatedAt). */
    at: number;
    done: number;
}

/** Samples older than this before the newest one do not count: the rate follows changes. */
export const RATE_WINDOW_MS = 10_000;

/** Adds a sample (ignoring repeats and time going backwards) and drops those outside the window. */
export function addSample(samples: Sample[], sample: Sample): Sample[] {
    const last = samples[samples.length - 1];
    if (last && sample.done < last.done)
        return [sample];  // a new job (or disk) started over
    if (last && sample.at <= last.at)
        return samples;  // the same state read again
    const kept = [...samples, sample];
    // Keep one sample at or before the window's start so the window is fully covered.
    let first = 0;
    while (first + 1 < kept.length && kept[first + 1].at <= sample.at - RATE_WINDOW_MS)
        first++;
    return kept.slice(first);
}

/** Bytes per second over the samples; null until two samples differ in time. */
export function throughput(samples: Sample[]): number | null {
    if (samples.length < 2)
        return null;
    const first = samples[0], last = samples[samples.length - 1];
    const seconds = (last.at - first.at) / 1000;
    if (seconds <= 0)
        return null;
    return (last.done - first.done) / seconds;
}

/** Seconds left at this rate; 0 when done; null when unknown (no rate, or no total yet). */
export function secondsLeft(done: number, total: number, rate: number | null): number | null {
    if (total > 0 && done >= total)
        return 0;
    if (rate === null || rate <= 0 || total <= 0)
        return null;
    return Math.ceil((total - done) / rate);
}

/** "1:05:09", "4:05", "0:07": hours only when needed. */
export function formatDuration(seconds: number): string {
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const two = (n: number) => String(n).padStart(2, "0");
    return h > 0 ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
}

/** Sum of done and total over disks. */
export function overall(disks: { done: number; total: number }[]): { done: number; total: number } {
    return disks.reduce((acc, d) => ({ done: acc.done + d.done, total: acc.total + d.total }), { done: 0, total: 0 });
}

/** Percent for a progress bar, 0..100; 0 when the total is not known. */
export function percent(done: number, total: number): number {
    return total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
}
